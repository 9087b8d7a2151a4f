package plot

import (
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"
)

func TestLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.png")
	s := []Series{{Name: "a", X: []float64{0, 1, 2}, Y: []float64{3, 2, math.NaN()}}, {Name: "b", X: []float64{0, 2}, Y: []float64{1, 1}}}
	if err := Lines(path, "t", "x", "y", s, 300, 200); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 300 || b.Dy() != 200 {
		t.Fatalf("size %v", b)
	}
	found := false // the first series' colour must appear
	for y := 0; y < 200 && !found; y++ {
		for x := 0; x < 300; x++ {
			r, g, b, _ := img.At(x, y).RGBA()
			if r>>8 == 31 && g>>8 == 119 && b>>8 == 180 {
				found = true
				break
			}
		}
	}
	if !found {
		t.Fatal("series line not drawn")
	}
	if err := Lines(path, "t", "x", "y", []Series{{X: []float64{1}, Y: []float64{math.Inf(1)}}}, 100, 100); err == nil {
		t.Fatal("no finite points accepted")
	}
}

// A points-only series draws its markers in the colour it names, and none of the line between them.
func TestMarkers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.png")
	s := []Series{{X: []float64{0, 10}, Y: []float64{0, 10}, Marker: true, NoLine: true, Color: 4}}
	if err := Lines(path, "t", "x", "y", s, 300, 200); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	red := 0
	for y := 0; y < 200; y++ {
		for x := 0; x < 300; x++ {
			r, g, b, _ := img.At(x, y).RGBA()
			if r>>8 == 214 && g>>8 == 39 && b>>8 == 40 {
				red++
			}
		}
	}
	if red != 2*49 { // two 7x7 squares, no line, no legend swatch
		t.Fatalf("%d marker pixels, want %d", red, 2*49)
	}
}
