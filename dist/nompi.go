//go:build !(mpi && cgo)

package dist

import "fmt"

// MPIBuilt reports whether this binary can use MPI.
const MPIBuilt = false

func openMPI() (Comm, error) {
	return nil, fmt.Errorf("dist: this tern was built without MPI; build one with `CGO_ENABLED=1 go build -tags mpi ./cmd/tern` (needs an MPI library, e.g. Debian's libopenmpi-dev) and start it with mpirun")
}
