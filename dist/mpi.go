//go:build mpi && cgo

package dist

// The MPI engine: MPI_COMM_WORLD through the C API. pkg-config finds Open MPI ("ompi-c"); for another
// MPI set CGO_CFLAGS / CGO_LDFLAGS (e.g. from `mpicc -show`).

/*
#cgo pkg-config: ompi-c
#include <mpi.h>
#include <stdlib.h>

static int tern_mpi_init(int *rank, int *size) {
	int inited = 0, provided = 0;
	MPI_Initialized(&inited);
	if (!inited) {
		// Go calls MPI from whichever thread runs the goroutine, one call at a time.
		int rc = MPI_Init_thread(NULL, NULL, MPI_THREAD_SERIALIZED, &provided);
		if (rc != MPI_SUCCESS) return rc;
	}
	MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
	MPI_Comm_rank(MPI_COMM_WORLD, rank);
	return MPI_Comm_size(MPI_COMM_WORLD, size);
}

static int tern_allreduce_f32(float *buf, int n) {
	return MPI_Allreduce(MPI_IN_PLACE, buf, n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
}

static int tern_allreduce_f64(double *buf, int n) {
	return MPI_Allreduce(MPI_IN_PLACE, buf, n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
}

static int tern_mpi_finalize(void) {
	int done = 0;
	MPI_Finalized(&done);
	return done ? MPI_SUCCESS : MPI_Finalize();
}

static void tern_mpi_error(int code, char *msg, int cap) {
	int n = 0;
	if (MPI_Error_string(code, msg, &n) != MPI_SUCCESS) n = 0;
	msg[n < cap ? n : cap - 1] = 0;
}
*/
import "C"

import (
	"fmt"
	"math"
	"runtime"
	"sync"
	"unsafe"
)

// MPIBuilt reports whether this binary can use MPI.
const MPIBuilt = true

type mpiComm struct {
	mu         sync.Mutex // MPI_THREAD_SERIALIZED: one call at a time
	rank, size int
}

var mpiOnce struct {
	sync.Mutex
	c *mpiComm
}

func openMPI() (Comm, error) {
	mpiOnce.Lock()
	defer mpiOnce.Unlock()
	if mpiOnce.c != nil {
		return mpiOnce.c, nil
	}
	// MPI's main thread (the one that initializes) must also finalize: keep this goroutine on it.
	// Callers Close from the goroutine that opened.
	runtime.LockOSThread()
	var rank, size C.int
	if rc := C.tern_mpi_init(&rank, &size); rc != C.MPI_SUCCESS {
		return nil, mpiError("MPI_Init_thread", rc)
	}
	mpiOnce.c = &mpiComm{rank: int(rank), size: int(size)}
	return mpiOnce.c, nil
}

func mpiError(what string, rc C.int) error {
	var buf [512]C.char
	C.tern_mpi_error(rc, &buf[0], C.int(len(buf)))
	return fmt.Errorf("dist: %s: %s", what, C.GoString(&buf[0]))
}

func (c *mpiComm) Rank() int { return c.rank }
func (c *mpiComm) Size() int { return c.size }

// MPI counts are C ints: longer buffers go in pieces.
const mpiChunk = math.MaxInt32 / 2

func (c *mpiComm) AllreduceSum(buf []float32) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for lo := 0; lo < len(buf); lo += mpiChunk {
		n := min(mpiChunk, len(buf)-lo)
		if rc := C.tern_allreduce_f32((*C.float)(unsafe.Pointer(&buf[lo])), C.int(n)); rc != C.MPI_SUCCESS {
			return mpiError("MPI_Allreduce", rc)
		}
	}
	return nil
}

func (c *mpiComm) AllreduceSum64(buf []float64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for lo := 0; lo < len(buf); lo += mpiChunk {
		n := min(mpiChunk, len(buf)-lo)
		if rc := C.tern_allreduce_f64((*C.double)(unsafe.Pointer(&buf[lo])), C.int(n)); rc != C.MPI_SUCCESS {
			return mpiError("MPI_Allreduce", rc)
		}
	}
	return nil
}

// Close finalizes MPI; the process must make no MPI call afterwards.
func (c *mpiComm) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if rc := C.tern_mpi_finalize(); rc != C.MPI_SUCCESS {
		return mpiError("MPI_Finalize", rc)
	}
	return nil
}
