package format

import "io"

// MapFile maps path read-only and shared (on linux; elsewhere, or for an empty file, it reads it
// whole and unmap is nil), for other container formats (package gguf) that keep weights in place.
func MapFile(path string) (b []byte, unmap func() error, err error) { return mapFile(path) }

// WriteAtomic runs fill on a temporary file next to path, fsyncs it and renames it into place, so a
// reader never sees a partial file; other container formats (package gguf) write through it.
func WriteAtomic(path string, fill func(w io.Writer) error) error { return writeAtomic(path, fill) }
