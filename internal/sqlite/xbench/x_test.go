package xbench

import (
	"database/sql"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"
)

func cpu() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func TestCommitCost(t *testing.T) {
	body := []byte(strings.Repeat("x", 1250))
	h := make([]byte, 32)
	for _, sync := range []string{"OFF", "NORMAL", "FULL"} {
		for _, ckpt := range []int{1000, 0} {
			for _, batch := range []int{1, 8, 40, 128} {
				dir := t.TempDir()
				db, _ := sql.Open("sqlite3", "file:"+dir+"/x.db?_journal_mode=WAL&_synchronous="+sync)
				db.SetMaxOpenConns(1)
				db.Exec("CREATE TABLE r (seq INTEGER PRIMARY KEY, prev BLOB, hash BLOB, body BLOB)")
				db.Exec("PRAGMA wal_autocheckpoint=" + itoa(ckpt))
				st, _ := db.Prepare("INSERT INTO r VALUES (?,?,?,?)")
				seq := 0
				n := 8000
				c0, t0 := cpu(), time.Now()
				var commitCPU time.Duration
				for seq < n {
					tx, _ := db.Begin()
					ts := tx.Stmt(st)
					for j := 0; j < batch; j++ {
						seq++
						ts.Exec(seq, h, h, body)
					}
					c1 := cpu()
					tx.Commit()
					commitCPU += cpu() - c1
				}
				t.Logf("sync=%-6s ckpt=%4d batch=%3d: cpu/rec %6v (commit %6v) wall/rec %v", sync, ckpt, batch, (cpu()-c0)/time.Duration(n), commitCPU/time.Duration(n), time.Since(t0)/time.Duration(n))
				db.Close()
			}
		}
	}
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	s := ""
	for i > 0 {
		s = string(rune('0'+i%10)) + s
		i /= 10
	}
	return s
}
