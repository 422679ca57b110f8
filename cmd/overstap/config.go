package main

import (
	"errors"
	"io"
	"log/slog"

	"github.com/overstap/overstap/internal/config"
	"github.com/overstap/overstap/internal/logging"
	"github.com/overstap/overstap/internal/server"
)

// fileConfig is overstap's one configuration file (--config), for every
// command: serve uses all of it, audit and migrate the sections they need.
// Each section is the typed Config of the package it configures; the field
// comments of those structs are the user documentation, generated into
// docs/configuration.md (TestConfigurationReference).
type fileConfig = server.Config

// loadConfig reads and validates the configuration file at path, reporting
// every problem with its key.
func loadConfig(path string) (fileConfig, error) {
	var c fileConfig
	if path == "" {
		return c, errors.New("--config is required")
	}
	if err := config.Load(path, &c); err != nil {
		return fileConfig{}, err
	}
	return c, nil
}

// commandLogger is the logger of a command other than serve: the log
// section of the configuration file when the command read one, else JSON
// at warn (a command-line tool stays quiet). Every command writes the same
// lines as serve (internal/logging, masked).
func commandLogger(w io.Writer, fc *fileConfig) (*slog.Logger, error) {
	if fc != nil {
		return logging.New(w, fc.Log.Format, fc.Log.Level)
	}
	return logging.New(w, "", "warn")
}
