// Package config loads overstap's one YAML configuration file: strict
// decoding (unknown keys are errors), secrets by reference ([Secret]), and
// validation of every section at load with all problems reported together,
// each with its key path and a hint.
package config
