//go:build !purego

#include "textflag.h"

// func spinPause()
// PAUSE tells the core it is in a spin loop: it saves power and, on SMT cores, issue slots for the
// sibling thread.
TEXT ·spinPause(SB), NOSPLIT, $0-0
	PAUSE
	RET
