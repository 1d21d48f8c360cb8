package procexec

import "sync"

// tailBuffer keeps the last n bytes written to it: a crashing simulation can
// print megabytes, and only the end says why.
type tailBuffer struct {
	mu    sync.Mutex
	buf   []byte
	n     int
	total int64
}

func newTailBuffer(n int) *tailBuffer { return &tailBuffer{n: n, buf: make([]byte, 0, n)} }

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.total += int64(len(p))
	if len(p) >= t.n {
		t.buf = append(t.buf[:0], p[len(p)-t.n:]...)
		return len(p), nil
	}
	if over := len(t.buf) + len(p) - t.n; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	t.buf = append(t.buf, p...)
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}
