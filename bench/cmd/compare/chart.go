package main

import (
	"bytes"
	"fmt"
	"html"
	"math"
)

// chart draws the ratios of the rows that have a target as horizontal bars
// on a logarithmic axis, as cost ratios: giotls ÷ other for times, bytes
// and allocations, other ÷ giotls for throughput, so that left of 1 is
// always giotls doing better.
func chart(rows []row) []byte {
	type bar struct {
		label  string
		series int
		v      float64
	}
	var bars []bar
	var labels []string
	for _, r := range rows {
		has := false
		for _, t := range r.targets {
			has = has || t != nil
		}
		if !has {
			continue
		}
		labels = append(labels, r.scenario+" — "+r.metric)
		for i := range r.others {
			x := r.ratio(i)
			if math.IsNaN(x) || x <= 0 {
				continue
			}
			if r.unit == "MB/s" {
				x = 1 / x
			}
			bars = append(bars, bar{label: labels[len(labels)-1], series: i, v: x})
		}
	}
	const (
		left, right, top = 470.0, 40.0, 60.0
		plotW            = 520.0
		barH, gap        = 9.0, 8.0
		lo, hi           = 0.005, 2.0
	)
	colors := [3]string{"#1f77b4", "#d62728", "#2ca02c"}
	names := [3]string{"÷ crypto/tls", "(default) ÷ GIO default", "÷ GIO tuned"}
	xOf := func(v float64) float64 {
		v = math.Min(math.Max(v, lo), hi)
		return left + plotW*(math.Log(v)-math.Log(lo))/(math.Log(hi)-math.Log(lo))
	}
	// Each label gets one slot per series it has.
	y := top
	pos := map[string]float64{}
	count := map[string]int{}
	for _, b := range bars {
		count[b.label]++
	}
	for _, l := range labels {
		pos[l] = y
		y += float64(count[l])*barH + gap
	}
	height := y + 50
	width := left + plotW + right
	var w bytes.Buffer
	fmt.Fprintf(&w, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" font-family="sans-serif" font-size="11">`+"\n", width, height, width, height)
	fmt.Fprintf(&w, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(&w, `<text x="%.0f" y="20" font-size="14" font-weight="bold">giotls cost ratios (medians; left of 1: giotls cheaper or faster)</text>`+"\n", 10.0)
	for i, n := range names {
		x := 10 + float64(i)*230
		fmt.Fprintf(&w, `<rect x="%.0f" y="32" width="12" height="10" fill="%s"/><text x="%.0f" y="41">giotls %s</text>`+"\n", x, colors[i], x+16, html.EscapeString(n))
	}
	for _, t := range []float64{0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2} {
		x := xOf(t)
		stroke, sw := "#ddd", 1.0
		if t == 1 {
			stroke, sw = "#000", 1.5
		}
		fmt.Fprintf(&w, `<line x1="%.1f" y1="%.0f" x2="%.1f" y2="%.0f" stroke="%s" stroke-width="%.1f"/>`+"\n", x, top-4, x, height-40, stroke, sw)
		fmt.Fprintf(&w, `<text x="%.1f" y="%.0f" text-anchor="middle">%g</text>`+"\n", x, height-26, t)
	}
	fmt.Fprintf(&w, `<line x1="%.1f" y1="%.0f" x2="%.1f" y2="%.0f" stroke="#d62728" stroke-dasharray="4 3"/>`+"\n", xOf(0.05), top-4, xOf(0.05), height-40)
	fmt.Fprintf(&w, `<text x="%.1f" y="%.0f" text-anchor="middle" fill="#555">(log scale; red dashes: 20× faster)</text>`+"\n", left+plotW/2, height-10)
	done := map[string]int{}
	for _, l := range labels {
		fmt.Fprintf(&w, `<text x="%.0f" y="%.1f" text-anchor="end">%s</text>`+"\n", left-8, pos[l]+barH*float64(count[l])/2+4, html.EscapeString(l))
	}
	for _, b := range bars {
		yy := pos[b.label] + float64(done[b.label])*barH
		done[b.label]++
		x0, x1 := xOf(1), xOf(b.v)
		if x1 < x0 {
			x0, x1 = x1, x0
		}
		fmt.Fprintf(&w, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s %s: %.3f</title></rect>`+"\n",
			x0, yy, math.Max(x1-x0, 1), barH-1, colors[b.series], html.EscapeString(b.label), html.EscapeString(names[b.series]), b.v)
		fmt.Fprintf(&w, `<text x="%.1f" y="%.1f" font-size="8" fill="#333">%.3g</text>`+"\n", math.Max(x1, xOf(1))+3, yy+barH-2, b.v)
	}
	fmt.Fprintln(&w, `</svg>`)
	return w.Bytes()
}
