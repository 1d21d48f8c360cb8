package dashboard

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// refreshEvery is how often an unchanged view is sent again anyway: its
// relative times ("5s ago") move on, and proxies and SSH tunnels do not
// drop the stream as idle.
const refreshEvery = 10 * time.Second

// stream pushes a view as server-sent events: "view" events with the
// view's JSON whenever it changed (checked every StreamInterval), "problem"
// events when it cannot be computed (not "error": EventSource keeps that
// name for its own connection errors), and "logout" when the session
// expires or is logged out. EventSource reconnects by itself after a drop.
func (s *Server) stream(w http.ResponseWriter, r *http.Request) {
	v, err := specFromQuery(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	fl, ok := w.(http.Flusher)
	if !ok {
		writeError(w, http.StatusInternalServerError, "InternalError", "streaming unsupported by this connection")
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	// Clients retry after 2s when the connection drops.
	fmt.Fprint(w, "retry: 2000\n\n")
	fl.Flush()

	var last []byte
	lastSent := time.Now()
	t := time.NewTicker(s.cfg.StreamInterval)
	defer t.Stop()
	for {
		// Every tick: a session that expired or logged out (in another tab)
		// ends the stream.
		// A check that cannot be made is a problem of this tick, not a
		// logout.
		_, _, err := s.sessions.session(r)
		if errors.Is(err, errNoSession) {
			fmt.Fprint(w, "event: logout\ndata: {}\n\n")
			fl.Flush()
			return
		}
		var b []byte
		if err == nil {
			b, err = s.compute(r.Context(), v)
		}
		switch {
		case r.Context().Err() != nil:
			return
		case err != nil:
			fmt.Fprintf(w, "event: problem\ndata: %s\n\n", errorJSON(err))
			last = nil
			lastSent = time.Now()
		case !bytes.Equal(withoutAt(b), withoutAt(last)) || time.Since(lastSent) > refreshEvery:
			w.Write([]byte("event: view\ndata: "))
			w.Write(b) // JSON has no raw newlines
			w.Write([]byte("\n\n"))
			last = b
			lastSent = time.Now()
		}
		fl.Flush()
		select {
		case <-r.Context().Done():
			return
		case <-s.done:
			return
		case <-t.C:
		}
	}
}

// withoutAt cuts a view's final "at" member (every view ends with the time
// it was computed), so that views differing only in it count as the same.
func withoutAt(b []byte) []byte {
	i := bytes.LastIndex(b, []byte(`,"at":"`))
	if i < 0 || !bytes.HasSuffix(b, []byte(`"}`)) || bytes.IndexByte(b[i+len(`,"at":"`):], '"') != len(b)-i-len(`,"at":"`)-2 {
		return b
	}
	return b[:i]
}

// errorJSON is the data of a "problem" event; notFound tells the page that
// its campaign is gone (deleted).
func errorJSON(err error) []byte {
	b, _ := json.Marshal(map[string]any{"message": err.Error(), "notFound": isNotFound(err)})
	return b
}
