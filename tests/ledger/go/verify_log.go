// verify_log checks a Talaan ledger's checkpoints and proofs with Go's reference
// implementation of the formats (golang.org/x/mod/sumdb/note and sumdb/tlog), reading the
// log's public tiles over HTTP. Input: JSON on stdin. Output: one "OK ..." line per check;
// any failure exits non-zero naming it.
package main

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type input struct {
	BaseURL       string   `json:"base_url"`
	OldCheckpoint string   `json:"old_checkpoint"`
	Index         int64    `json:"index"`
	LeafHash      string   `json:"leaf_hash"`
	Inclusion     []string `json:"inclusion"`
	Consistency   []string `json:"consistency"`
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "FAIL: "+format+"\n", args...)
	os.Exit(1)
}

func get(url string) []byte {
	resp, err := http.Get(url)
	if err != nil {
		fail("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		fail("GET %s: status %d %v", url, resp.StatusCode, err)
	}
	return body
}

func hashes(hexes []string) []tlog.Hash {
	out := make([]tlog.Hash, len(hexes))
	for i, h := range hexes {
		raw, err := hex.DecodeString(h)
		if err != nil || len(raw) != tlog.HashSize {
			fail("bad hash %q", h)
		}
		copy(out[i][:], raw)
	}
	return out
}

// open verifies a checkpoint note and returns its tree.
func open(text string, verifiers note.Verifiers) (string, tlog.Tree) {
	n, err := note.Open([]byte(text), verifiers)
	if err != nil {
		fail("checkpoint signature: %v", err)
	}
	lines := strings.Split(n.Text, "\n")
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil {
		fail("checkpoint size: %v", err)
	}
	root, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(root) != tlog.HashSize {
		fail("checkpoint root: %v", err)
	}
	var tree tlog.Tree
	tree.N = size
	copy(tree.Hash[:], root)
	return lines[0], tree
}

// tiles reads C2SP tiles: Go's tile paths carry the height ("tile/8/L/N"), C2SP's do not.
type tiles struct{ base string }

func (t tiles) Height() int { return 8 }

func (t tiles) ReadTiles(list []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(list))
	for i, tile := range list {
		path := strings.Replace(tile.Path(), "tile/8/", "tile/", 1)
		out[i] = get(t.base + path)
	}
	return out, nil
}

func (t tiles) SaveTiles([]tlog.Tile, [][]byte) {}

func main() {
	var in input
	if err := json.NewDecoder(os.Stdin).Decode(&in); err != nil {
		fail("input: %v", err)
	}
	vkey := strings.TrimSpace(string(get(in.BaseURL + "key")))
	verifier, err := note.NewVerifier(vkey)
	if err != nil {
		fail("verifier key: %v", err)
	}
	verifiers := note.VerifierList(verifier)
	origin, tree := open(string(get(in.BaseURL+"checkpoint")), verifiers)
	_, old := open(in.OldCheckpoint, verifiers)
	fmt.Printf("OK checkpoint %s %d signed by %s\n", origin, tree.N, verifier.Name())

	leaf := hashes([]string{in.LeafHash})[0]
	ours := tlog.RecordProof(hashes(in.Inclusion))
	if err := tlog.CheckRecord(ours, tree.N, tree.Hash, in.Index, leaf); err != nil {
		fail("inclusion proof: %v", err)
	}
	fmt.Printf("OK inclusion of leaf %d in %d\n", in.Index, tree.N)
	consistency := tlog.TreeProof(hashes(in.Consistency))
	if err := tlog.CheckTree(consistency, tree.N, tree.Hash, old.N, old.Hash); err != nil {
		fail("consistency proof: %v", err)
	}
	fmt.Printf("OK consistency of %d with %d\n", old.N, tree.N)

	// The same proofs, built by Go itself from the public tiles (which it checks against
	// the signed root as it reads them).
	reader := tlog.TileHashReader(tree, tiles{in.BaseURL})
	record, err := tlog.ProveRecord(tree.N, in.Index, reader)
	if err != nil {
		fail("proving from the tiles: %v", err)
	}
	if fmt.Sprint(record) != fmt.Sprint(ours) {
		fail("the tiles give another inclusion proof")
	}
	treeProof, err := tlog.ProveTree(tree.N, old.N, reader)
	if err != nil {
		fail("proving consistency from the tiles: %v", err)
	}
	if fmt.Sprint(treeProof) != fmt.Sprint(consistency) {
		fail("the tiles give another consistency proof")
	}
	fmt.Println("OK tiles")
}
