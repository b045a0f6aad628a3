package main

import (
	"bytes"
	"fmt"
	"html"
	"math"
)

// chart draws the ratios of the rows that have a target, as cost ratios:
// giotls ÷ other for times, bytes and allocations, other ÷ giotls for
// throughput, so that left of 1 is always giotls doing better. The first
// panel, against crypto/tls, is linear around 1 with each row's target
// marked; the second, against GIO, is logarithmic.
func chart(rows []row) []byte {
	type bar struct {
		series int
		v      float64
		text   string
	}
	type item struct {
		label  string
		bars   []bar
		target float64 // cost-ratio bound for the first panel; 0: none
	}
	var crypto, gio []item
	for _, r := range rows {
		label := r.scenario + " — " + r.metric
		if r.unit == "MB/s" {
			label = r.scenario + " — time per byte (1 ÷ throughput)"
		}
		if t := r.targets[vsCrypto]; t != nil {
			x := r.ratio(vsCrypto)
			it := item{label: label}
			text := fmt.Sprintf("%.3f", x)
			switch {
			case r.unit == "MB/s":
				x = 1 / x
				it.target = 1 / t.min
				text = fmt.Sprintf("%.3f", x)
			case r.unit == "B/conn":
				text += fmt.Sprintf(" (%+.0f B; target ≤ %+.0f B)", r.giotls-r.others[vsCrypto], t.maxDiff)
				it.target = (r.others[vsCrypto] + t.maxDiff) / r.others[vsCrypto]
			default:
				it.target = t.max
			}
			if !math.IsNaN(x) {
				it.bars = append(it.bars, bar{vsCrypto, x, text})
				crypto = append(crypto, it)
			}
		}
		if r.targets[vsGIODefault] != nil || r.targets[vsGIOTuned] != nil {
			it := item{label: label}
			for _, i := range []int{vsCrypto, vsGIODefault, vsGIOTuned} {
				x := r.ratio(i)
				if math.IsNaN(x) || x <= 0 {
					continue
				}
				if r.unit == "MB/s" {
					x = 1 / x
				}
				it.bars = append(it.bars, bar{i, x, fmt.Sprintf("%.3g", x)})
			}
			gio = append(gio, it)
		}
	}

	const (
		left, right, plotW = 470.0, 110.0, 450.0
		barH, gap          = 9.0, 7.0
	)
	colors := [3]string{"#1f77b4", "#d62728", "#2ca02c"}
	names := [3]string{"giotls ÷ crypto/tls", "giotls default ÷ GIO default", "giotls ÷ GIO tuned"}
	width := left + plotW + right
	var w bytes.Buffer
	y := 0.0
	panel := func(title string, items []item, lo, hi float64, logScale bool, ticks []float64) {
		xOf := func(v float64) float64 {
			v = math.Min(math.Max(v, lo), hi)
			if logScale {
				return left + plotW*(math.Log(v)-math.Log(lo))/(math.Log(hi)-math.Log(lo))
			}
			return left + plotW*(v-lo)/(hi-lo)
		}
		fmt.Fprintf(&w, `<text x="10" y="%.0f" font-size="13" font-weight="bold">%s</text>`+"\n", y+18, html.EscapeString(title))
		top := y + 32
		bottom := top
		for _, it := range items {
			bottom += float64(len(it.bars))*barH + gap
		}
		for _, t := range ticks {
			x := xOf(t)
			stroke, sw := "#ddd", 1.0
			if t == 1 {
				stroke, sw = "#000", 1.5
			}
			fmt.Fprintf(&w, `<line x1="%.1f" y1="%.0f" x2="%.1f" y2="%.0f" stroke="%s" stroke-width="%.1f"/>`+"\n", x, top-4, x, bottom, stroke, sw)
			fmt.Fprintf(&w, `<text x="%.1f" y="%.0f" text-anchor="middle">%g</text>`+"\n", x, bottom+14, t)
		}
		yy := top
		for _, it := range items {
			h := float64(len(it.bars)) * barH
			fmt.Fprintf(&w, `<text x="%.0f" y="%.1f" text-anchor="end">%s</text>`+"\n", left-8, yy+h/2+4, html.EscapeString(it.label))
			if it.target > 0 && it.target <= hi {
				x := xOf(it.target)
				fmt.Fprintf(&w, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#ff7f0e" stroke-width="2"><title>target</title></line>`+"\n", x, yy-2, x, yy+h+1)
			}
			for _, b := range it.bars {
				x0, x1 := xOf(1), xOf(b.v)
				if x1 < x0 {
					x0, x1 = x1, x0
				}
				fmt.Fprintf(&w, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s, %s: %.3f</title></rect>`+"\n",
					x0, yy, math.Max(x1-x0, 1), barH-1, colors[b.series], html.EscapeString(it.label), html.EscapeString(names[b.series]), b.v)
				fmt.Fprintf(&w, `<text x="%.1f" y="%.1f" font-size="8" fill="#333">%s</text>`+"\n", math.Max(x1, xOf(1))+3, yy+barH-2, html.EscapeString(b.text))
				yy += barH
			}
			yy += gap
		}
		y = bottom + 26
	}

	fmt.Fprintf(&w, `<text x="10" y="20" font-size="14" font-weight="bold">giotls cost ratios, medians of one bench/compare run (left of 1: giotls cheaper or faster)</text>`+"\n")
	for i, n := range names {
		x := 10 + float64(i)*240
		fmt.Fprintf(&w, `<rect x="%.0f" y="32" width="12" height="10" fill="%s"/><text x="%.0f" y="41">%s</text>`+"\n", x, colors[i], x+16, html.EscapeString(n))
	}
	fmt.Fprintf(&w, `<line x1="740" y1="37" x2="752" y2="37" stroke="#ff7f0e" stroke-width="2"/><text x="756" y="41">target</text>`+"\n")
	y = 56
	panel("Against plain crypto/tls (linear scale)", crypto, 0.6, 1.6, false, []float64{0.6, 0.8, 0.9, 1, 1.1, 1.2, 1.4, 1.6})
	panel("Process against process, with the reference GIO client (log scale; target ≤ 0.05 against GIO default, ≤ 1 against GIO tuned)",
		gio, 0.005, 2, true, []float64{0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2})
	var out bytes.Buffer
	fmt.Fprintf(&out, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" font-family="sans-serif" font-size="11">`+"\n", width, y, width, y)
	fmt.Fprintf(&out, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	out.Write(w.Bytes())
	fmt.Fprintln(&out, `</svg>`)
	return out.Bytes()
}
