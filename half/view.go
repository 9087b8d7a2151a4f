package half

import (
	"encoding/binary"
	"unsafe"
)

// View is b's little-endian 16-bit values (F16 or BF16) in place, without copying, when b is 2-byte
// aligned and the machine is little-endian; ok is false otherwise (the caller then widens a copy).
// Files written by tern and GGUF files align tensors, so weights can stay in the file's bytes.
func View(b []byte) (v []uint16, ok bool) {
	if len(b) == 0 || len(b)%2 != 0 || uintptr(unsafe.Pointer(&b[0]))%2 != 0 || !littleEndian {
		return nil, false
	}
	return unsafe.Slice((*uint16)(unsafe.Pointer(&b[0])), len(b)/2), true
}

var littleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1
