// tarls lists tar archives (each announced by {"file":...}) with Go's archive/tar, the reader container runtimes apply layers
// with: one JSON line per header (names as base64 of their bytes, the content's sha256 for
// entries with data), then {"end":"eof"} or {"error":"..."}.
package main

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
)

type entry struct {
	Name     string  `json:"name"`
	Link     string  `json:"link"`
	Type     int     `json:"type"`
	Size     int64   `json:"size"`
	Mode     int64   `json:"mode"`
	UID      int     `json:"uid"`
	GID      int     `json:"gid"`
	Mtime    float64 `json:"mtime"`
	Sha256   string  `json:"sha256,omitempty"`
	Length   int64   `json:"length"`
	ReadErr  string  `json:"readErr,omitempty"`
}

func main() {
	out := json.NewEncoder(os.Stdout)
	for _, name := range os.Args[1:] {
		out.Encode(map[string]string{"file": name})
		list(name, out)
	}
}

func list(name string, out *json.Encoder) {
	f, err := os.Open(name)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			out.Encode(map[string]string{"end": "eof"})
			return
		}
		if err != nil {
			out.Encode(map[string]string{"error": err.Error()})
			return
		}
		e := entry{
			Name:  base64.StdEncoding.EncodeToString([]byte(h.Name)),
			Link:  base64.StdEncoding.EncodeToString([]byte(h.Linkname)),
			Type:  int(h.Typeflag),
			Size:  h.Size,
			Mode:  h.Mode,
			UID:   h.Uid,
			GID:   h.Gid,
			Mtime: float64(h.ModTime.UnixNano()) / 1e9,
		}
		sum := sha256.New()
		n, rerr := io.Copy(sum, tr)
		e.Length = n
		if n > 0 {
			e.Sha256 = hex.EncodeToString(sum.Sum(nil))
		}
		if rerr != nil {
			e.ReadErr = rerr.Error()
		}
		out.Encode(e)
		if rerr != nil {
			return
		}
	}
}
