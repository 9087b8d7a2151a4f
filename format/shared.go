package format

import "io"

// WriteAtomic runs fill on a temporary file next to path, fsyncs it and renames it into place, so a
// reader never sees a partial file; other container formats (package gguf) write through it.
func WriteAtomic(path string, fill func(w io.Writer) error) error { return writeAtomic(path, fill) }
