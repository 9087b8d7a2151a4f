// Package plot draws simple line charts to PNG (loss curves, benchmark sweeps) with the standard
// library and a bitmap font: enough for a person to look at a run, nothing more.
package plot

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"

	"tern/format"
)

// Series is one named line (or set of points). A series without a name has no legend entry.
type Series struct {
	Name string
	X, Y []float64

	Marker bool // a square at each point
	NoLine bool // points only
	Color  int  // 1 + index into the palette; 0: by the series' position
}

var palette = []color.RGBA{{31, 119, 180, 255}, {255, 127, 14, 255}, {44, 160, 44, 255}, {214, 39, 40, 255}, {148, 103, 189, 255}, {140, 86, 75, 255}, {127, 127, 127, 255}, {23, 190, 207, 255}}

// Lines draws the series into a width x height PNG at path (written atomically).
func Lines(path, title, xlabel, ylabel string, series []Series, width, height int) error {
	img := image.NewRGBA(image.Rect(0, 0, width, height))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	x0, y0, x1, y1 := 70, 44, width-20, height-50 // plot area
	minX, maxX, minY, maxY := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for _, s := range series {
		for i := range s.X {
			if math.IsNaN(s.Y[i]) || math.IsInf(s.Y[i], 0) {
				continue
			}
			minX, maxX = math.Min(minX, s.X[i]), math.Max(maxX, s.X[i])
			minY, maxY = math.Min(minY, s.Y[i]), math.Max(maxY, s.Y[i])
		}
	}
	if math.IsInf(minX, 0) {
		return fmt.Errorf("plot: no finite points")
	}
	if maxX == minX {
		maxX = minX + 1
	}
	if maxY == minY {
		maxY = minY + 1
	}
	pad := (maxY - minY) * 0.05
	minY, maxY = minY-pad, maxY+pad
	px := func(x float64) int { return x0 + int((x-minX)/(maxX-minX)*float64(x1-x0)) }
	py := func(y float64) int { return y1 - int((y-minY)/(maxY-minY)*float64(y1-y0)) }
	grey := color.RGBA{200, 200, 200, 255}
	black := color.RGBA{0, 0, 0, 255}
	for i := 0; i <= 5; i++ { // grid and tick labels
		y := minY + (maxY-minY)*float64(i)/5
		hline(img, x0, x1, py(y), grey)
		text(img, 5, py(y)+4, fmt.Sprintf("%.3g", y), black)
		x := minX + (maxX-minX)*float64(i)/5
		vline(img, px(x), y0, y1, grey)
		text(img, px(x)-15, y1+15, fmt.Sprintf("%.4g", x), black)
	}
	hline(img, x0, x1, y1, black)
	vline(img, x0, y0, y1, black)
	text(img, x0, 16, title, black)
	text(img, (x0+x1)/2-len(xlabel)*3, height-12, xlabel, black)
	text(img, 5, y0-10, ylabel, black)
	legend := 0
	for si, s := range series {
		c := palette[si%len(palette)]
		if s.Color > 0 {
			c = palette[(s.Color-1)%len(palette)]
		}
		for i := 1; i < len(s.X) && !s.NoLine; i++ {
			if finite(s.X[i-1], s.Y[i-1]) && finite(s.X[i], s.Y[i]) { // a NaN loss leaves a gap
				line(img, px(s.X[i-1]), py(s.Y[i-1]), px(s.X[i]), py(s.Y[i]), c)
			}
		}
		for i := range s.X {
			if !finite(s.X[i], s.Y[i]) {
				continue
			}
			if s.Marker {
				square(img, px(s.X[i]), py(s.Y[i]), 3, c)
			} else if len(s.X) == 1 || s.NoLine {
				line(img, px(s.X[i])-2, py(s.Y[i]), px(s.X[i])+2, py(s.Y[i]), c)
			}
		}
		if s.Name == "" {
			continue
		}
		ly := y0 + 14 + legend*14
		legend++
		hline(img, x1-200, x1-180, ly-4, c)
		text(img, x1-175, ly, s.Name, black)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return err
	}
	if err := format.WriteFileAtomic(path, buf.Bytes()); err != nil {
		return fmt.Errorf("plot: %w", err)
	}
	return nil
}

func finite(x, y float64) bool {
	return !math.IsNaN(x) && !math.IsInf(x, 0) && !math.IsNaN(y) && !math.IsInf(y, 0)
}

func text(img *image.RGBA, x, y int, s string, c color.Color) {
	d := font.Drawer{Dst: img, Src: image.NewUniform(c), Face: basicfont.Face7x13, Dot: fixed.P(x, y)}
	d.DrawString(s)
}

// square fills a (2r+1)-pixel square centred on (x, y).
func square(img *image.RGBA, x, y, r int, c color.RGBA) {
	for dy := -r; dy <= r; dy++ {
		hline(img, x-r, x+r, y+dy, c)
	}
}

func hline(img *image.RGBA, xa, xb, y int, c color.RGBA) {
	for x := xa; x <= xb; x++ {
		img.SetRGBA(x, y, c)
	}
}

func vline(img *image.RGBA, x, ya, yb int, c color.RGBA) {
	for y := ya; y <= yb; y++ {
		img.SetRGBA(x, y, c)
	}
}

// line draws with Bresenham's algorithm, 2 px thick.
func line(img *image.RGBA, xa, ya, xb, yb int, c color.RGBA) {
	dx, dy := abs(xb-xa), -abs(yb-ya)
	sx, sy := sign(xb-xa), sign(yb-ya)
	err := dx + dy
	for {
		img.SetRGBA(xa, ya, c)
		img.SetRGBA(xa, ya+1, c)
		if xa == xb && ya == yb {
			return
		}
		e2 := 2 * err
		if e2 >= dy {
			err += dy
			xa += sx
		}
		if e2 <= dx {
			err += dx
			ya += sy
		}
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func sign(x int) int {
	switch {
	case x < 0:
		return -1
	case x > 0:
		return 1
	}
	return 0
}
