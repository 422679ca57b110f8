package main

import (
	"errors"

	"github.com/overstap/overstap/internal/config"
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
