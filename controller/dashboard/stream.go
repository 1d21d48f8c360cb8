package dashboard

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// keepAlive is how often an unchanged stream sends a comment line, so
// proxies and SSH tunnels do not drop it as idle.
const keepAlive = 15 * time.Second

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
		if _, _, ok := s.sessions.session(r); !ok {
			fmt.Fprint(w, "event: logout\ndata: {}\n\n")
			fl.Flush()
			return
		}
		b, err := s.compute(r.Context(), v)
		switch {
		case r.Context().Err() != nil:
			return
		case err != nil:
			fmt.Fprintf(w, "event: problem\ndata: %s\n\n", errorJSON(err))
			last = nil
			lastSent = time.Now()
		case !bytes.Equal(b, last):
			w.Write([]byte("event: view\ndata: "))
			w.Write(b) // JSON has no raw newlines
			w.Write([]byte("\n\n"))
			last = b
			lastSent = time.Now()
		case time.Since(lastSent) > keepAlive:
			fmt.Fprint(w, ": keep-alive\n\n")
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

// errorJSON is the data of a "problem" event; notFound tells the page that
// its campaign is gone (deleted).
func errorJSON(err error) []byte {
	b, _ := json.Marshal(map[string]any{"message": err.Error(), "notFound": isNotFound(err)})
	return b
}
