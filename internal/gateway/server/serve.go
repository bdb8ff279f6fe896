package server

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"
)

// Serve answers on l until ctx ends (SIGTERM in main), then drains: /health
// fails so the load balancer stops sending, no new connection is accepted,
// and in-flight calls and streams finish, for up to grace.
func Serve(ctx context.Context, l net.Listener, s *Server, grace time.Duration) error {
	srv := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second, // above the ALB's 60 s idle timeout
		// No WriteTimeout: streams last as long as REQUEST_TIMEOUT_SECONDS allows.
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.Log.Info("draining")
	s.Drain()
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	s.background.Wait() // token counts of the last calls
	s.Log.Info("drained")
	return nil
}
