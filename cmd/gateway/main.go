// Command gateway is the GenAI gateway: callers send their own IdP access
// token; the gateway assumes their use case's role with it and proxies the
// Bedrock runtime API. See README, "Gateway service".
package main

import (
	"context"
	"log/slog"
	"net"
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
	l, err := net.Listen("tcp", ":"+strconv.Itoa(cfg.Port))
	if err != nil {
		return err
	}
	log.Info("gateway listening", "port", cfg.Port, "region", cfg.Region)
	// ECS sends SIGTERM and waits stopTimeout before SIGKILL.
	return server.Serve(ctx, l, s, cfg.RequestTimeout+5*time.Second)
}
