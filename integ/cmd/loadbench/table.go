package main

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// table is a Markdown table with padded columns, readable in a terminal and pasteable into
// BENCHMARKS.md.
type table struct {
	title  string
	header []string
	rows   [][]string
	notes  []string
}

// newTable returns a table with a title and column headers.
func newTable(title string, header ...string) *table {
	return &table{title: title, header: header}
}

// add appends a row; missing cells are blank.
func (t *table) add(cells ...string) {
	t.rows = append(t.rows, cells)
}

// note appends a line printed under the table.
func (t *table) note(format string, args ...any) {
	t.notes = append(t.notes, fmt.Sprintf(format, args...))
}

// print writes the table to w.
func (t *table) print(w io.Writer) {
	widths := make([]int, len(t.header))
	for i, h := range t.header {
		widths[i] = utf8.RuneCountInString(h)
	}
	for _, r := range t.rows {
		for i := range min(len(r), len(widths)) {
			widths[i] = max(widths[i], utf8.RuneCountInString(r[i]))
		}
	}
	line := func(cells []string) {
		var b strings.Builder
		b.WriteString("|")
		for i, wd := range widths {
			c := ""
			if i < len(cells) {
				c = cells[i]
			}
			b.WriteString(" " + c + strings.Repeat(" ", wd-utf8.RuneCountInString(c)) + " |")
		}
		fmt.Fprintln(w, b.String())
	}
	if t.title != "" {
		fmt.Fprintf(w, "\n### %s\n\n", t.title)
	}
	line(t.header)
	seps := make([]string, len(widths))
	for i, wd := range widths {
		seps[i] = strings.Repeat("-", wd)
	}
	line(seps)
	for _, r := range t.rows {
		line(r)
	}
	if len(t.notes) > 0 {
		fmt.Fprintln(w)
		for _, n := range t.notes {
			fmt.Fprintln(w, n)
		}
	}
}
