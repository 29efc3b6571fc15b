package kms

import (
	"fmt"
	"testing"
)

// TestDataKeyCacheBound checks that the cache holds at most two
// generations, keeps what is used (an old entry read moves to the current
// generation) and drops a purged key's entries.
func TestDataKeyCacheBound(t *testing.T) {
	var c dataKeyCache
	c.init(4)
	wrapped := func(i int) []byte { return []byte(fmt.Sprintf("wrapped-%d", i)) }
	hot := &dataKeyEntry{keyID: "hot"}
	c.put([]byte("hot"), hot)
	for i := range 100 {
		c.put(wrapped(i), &dataKeyEntry{keyID: "k"})
		if c.get([]byte("hot")) != hot {
			t.Fatalf("after %d puts: the entry read every time was evicted", i+1)
		}
		if n := len(c.cur) + len(c.old); n > 2*c.max {
			t.Fatalf("after %d puts: %d entries, bound %d", i+1, n, 2*c.max)
		}
	}
	if c.get(wrapped(0)) != nil {
		t.Fatal("the first entry put is still cached after 100 others")
	}
	if c.get(wrapped(99)) == nil {
		t.Fatal("the last entry put is not cached")
	}
	c.dropKey("hot")
	if c.get([]byte("hot")) != nil {
		t.Fatal("dropKey left the key's entry")
	}
	var off dataKeyCache // max 0: off
	off.put([]byte("x"), hot)
	if off.get([]byte("x")) != nil {
		t.Fatal("a disabled cache returned an entry")
	}
}
