// bytelevel.go: GPT-2's byte-to-unicode mapping, which lets a byte-level vocabulary be written as
// printable text (tokenizer.json keys, merges). It is only used at the file boundary: encoding and
// decoding work on raw bytes.

package tokenizer

import (
	"slices"
	"unicode/utf8"
)

// byteToRune maps each byte to a printable rune: the 188 bytes that are printable Latin-1
// ('!'..'~', '¡'..'¬', '®'..'ÿ') map to themselves, the other 68 to U+0100 upwards in byte order
// (so ' ' becomes 'Ġ' U+0120 and '\n' becomes 'Ċ' U+010A), as in GPT-2's encoder.py.
var byteToRune [256]rune

// runeToByte inverts byteToRune; runes outside the alphabet are absent.
var runeToByte map[rune]byte

func init() {
	n := rune(0)
	runeToByte = make(map[rune]byte, 256)
	for b := 0; b < 256; b++ {
		if (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF) {
			byteToRune[b] = rune(b)
		} else {
			byteToRune[b] = 256 + n
			n++
		}
		runeToByte[byteToRune[b]] = byte(b)
	}
}

// bytesToUnicode writes b in the byte-level alphabet.
func bytesToUnicode(b []byte) string {
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = utf8.AppendRune(out, byteToRune[c])
	}
	return string(out)
}

// unicodeToBytes inverts bytesToUnicode; ok is false if s has a rune outside the alphabet.
func unicodeToBytes(s string) (b []byte, ok bool) {
	b = make([]byte, 0, len(s))
	for _, r := range s {
		c, found := runeToByte[r]
		if !found {
			return nil, false
		}
		b = append(b, c)
	}
	return b, true
}

// ByteAlphabet returns the byte-level alphabet in byte order: ByteAlphabet()[b] spells byte b in
// tokenizer.json and GGUF vocabularies.
func ByteAlphabet() []rune { return slices.Clone(byteToRune[:]) }
