// Command gateway is the GenAI gateway: callers send their own IdP access
// token; the gateway assumes their use case's role with it and proxies the
// Bedrock runtime API. See README, "Gateway service".
package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/acme/genai-estate/internal/gateway/env"
	"github.com/acme/genai-estate/internal/gateway/server"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	if err := run(log); err != nil {
		log.Error("gateway stopped", "error", err.Error())
		os.Exit(1)
	}
}

func run(log *slog.Logger) error {
	cfg, err := env.Load(os.LookupEnv)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	bg, cancelBg := context.WithCancel(context.Background())
	defer cancelBg()
	s, closeFn, err := server.FromEnv(bg, cfg, log)
	if err != nil {
		return err
	}
	defer closeFn()
	srv := &http.Server{
		Addr:              ":" + strconv.Itoa(cfg.Port),
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second, // above the ALB's 60 s idle timeout
		// No WriteTimeout: streams last as long as REQUEST_TIMEOUT_SECONDS allows.
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	log.Info("gateway listening", "port", cfg.Port, "region", cfg.Region)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	// SIGTERM: fail health checks, stop accepting, let in-flight calls and
	// streams finish (ECS waits stopTimeout before SIGKILL).
	log.Info("draining")
	s.Drain()
	sctx, cancel := context.WithTimeout(context.Background(), cfg.RequestTimeout+5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("drained")
	return nil
}
