package hash

import (
	"errors"
	"fmt"
	"runtime"
)

// Default values used when a Config or Limits field is zero.
const (
	DefaultBcryptCost = 12
	// MaxPasswordBytes bounds a candidate password given to Verify.
	MaxPasswordBytes = 1024
	// MaxIteratedPasswordBytes bounds the password for SHA-crypt, phpass and
	// Drupal 7, whose every round hashes the password again: their work grows
	// with rounds × password length, so a long password would turn an allowed
	// round count into a denial of service.
	MaxIteratedPasswordBytes = 256
	// maxStoredLen bounds a stored value; no supported format comes close.
	maxStoredLen = 1024
)

// Config configures a Hasher. The zero value is valid and means the defaults.
type Config struct {
	// BcryptCost is the cost of new bcrypt hashes (Hash, Wrap) and the cost
	// below which a stored bcrypt needs an upgrade. 0 means 12 (OWASP
	// Password Storage Cheat Sheet: at least 10). Allowed: 4..Limits.BcryptMaxCost.
	BcryptCost int `yaml:"bcrypt_cost"`
	// Limits caps the cost parameters read from stored values.
	Limits Limits `yaml:"limits"`
	// MaxConcurrent is the number of expensive hash computations that may run
	// at once (Verify of slow schemes, Hash, Wrap). 0 means runtime.NumCPU().
	MaxConcurrent int `yaml:"max_concurrent"`
	// DerivedBudget bounds the NRN-derived check (IsDerived) of one stored
	// value, in bcrypt-12 verifications: 0 means 1 (about one bcrypt-12
	// check per account), a negative value means no bound. A check that
	// would cost more returns ErrOverBudget instead of verifying: bcrypt is
	// judged by its cost before any verification (candidates x 2^(cost-12));
	// other slow schemes by the time of the first candidate against one
	// bcrypt-12 check measured on this machine.
	DerivedBudget float64 `yaml:"derived_budget"`
}

// Limits caps the cost parameters of stored hashes, so that a hostile or
// corrupt row cannot make one verification take minutes or gigabytes. Zero
// fields take the defaults shown. A value over a cap gives a *LimitError.
type Limits struct {
	// BcryptMaxCost caps bcrypt's cost (default 16, about 4 s on one core).
	BcryptMaxCost int `yaml:"bcrypt_max_cost"`
	// ShaCryptMaxRounds caps SHA-crypt's rounds= (default 1,000,000).
	ShaCryptMaxRounds int `yaml:"sha_crypt_max_rounds"`
	// PBKDF2MaxIterations caps PBKDF2 iterations: Django, passlib, ASP.NET
	// (default 2,000,000).
	PBKDF2MaxIterations int `yaml:"pbkdf2_max_iterations"`
	// PhpassMaxLog2 caps the log2 iteration count of phpass and Drupal 7
	// (default 20).
	PhpassMaxLog2 int `yaml:"phpass_max_log2"`
	// Argon2MaxMemoryKiB caps argon2's m= in KiB (default 262144 = 256 MiB).
	Argon2MaxMemoryKiB int `yaml:"argon2_max_memory_kib"`
	// Argon2MaxTime caps argon2's t= (default 16).
	Argon2MaxTime int `yaml:"argon2_max_time"`
	// Argon2MaxThreads caps argon2's p= (default 16).
	Argon2MaxThreads int `yaml:"argon2_max_threads"`
	// ScryptMaxMemoryBytes caps scrypt's 128·N·r (default 268435456 = 256 MiB).
	ScryptMaxMemoryBytes int `yaml:"scrypt_max_memory_bytes"`
	// ScryptMaxP caps scrypt's p (default 16).
	ScryptMaxP int `yaml:"scrypt_max_p"`
}

// DefaultLimits returns the caps used for zero fields.
func DefaultLimits() Limits {
	return Limits{
		BcryptMaxCost:        16,
		ShaCryptMaxRounds:    1_000_000,
		PBKDF2MaxIterations:  2_000_000,
		PhpassMaxLog2:        20,
		Argon2MaxMemoryKiB:   256 * 1024,
		Argon2MaxTime:        16,
		Argon2MaxThreads:     16,
		ScryptMaxMemoryBytes: 256 << 20,
		ScryptMaxP:           16,
	}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	set := func(v *int, def int) {
		if *v == 0 {
			*v = def
		}
	}
	set(&l.BcryptMaxCost, d.BcryptMaxCost)
	set(&l.ShaCryptMaxRounds, d.ShaCryptMaxRounds)
	set(&l.PBKDF2MaxIterations, d.PBKDF2MaxIterations)
	set(&l.PhpassMaxLog2, d.PhpassMaxLog2)
	set(&l.Argon2MaxMemoryKiB, d.Argon2MaxMemoryKiB)
	set(&l.Argon2MaxTime, d.Argon2MaxTime)
	set(&l.Argon2MaxThreads, d.Argon2MaxThreads)
	set(&l.ScryptMaxMemoryBytes, d.ScryptMaxMemoryBytes)
	set(&l.ScryptMaxP, d.ScryptMaxP)
	return l
}

// Validate reports every problem of the limits, each starting with its key.
func (l Limits) Validate() error {
	var errs []error
	check := func(key string, v, lo, hi int) {
		if v != 0 && (v < lo || v > hi) {
			errs = append(errs, fmt.Errorf("%s: must be between %d and %d (or 0 for the default)", key, lo, hi))
		}
	}
	check("bcrypt_max_cost", l.BcryptMaxCost, 4, 31)
	check("sha_crypt_max_rounds", l.ShaCryptMaxRounds, 1000, 999_999_999)
	check("pbkdf2_max_iterations", l.PBKDF2MaxIterations, 1, 1<<30)
	check("phpass_max_log2", l.PhpassMaxLog2, 7, 30)
	check("argon2_max_memory_kib", l.Argon2MaxMemoryKiB, 8, 4<<20)
	check("argon2_max_time", l.Argon2MaxTime, 1, 1<<16)
	check("argon2_max_threads", l.Argon2MaxThreads, 1, 255)
	check("scrypt_max_memory_bytes", l.ScryptMaxMemoryBytes, 1024, 1<<32)
	check("scrypt_max_p", l.ScryptMaxP, 1, 1<<10)
	return errors.Join(errs...)
}

// Validate reports every problem of the configuration, each message
// starting with the relative yaml key.
func (c Config) Validate() error {
	var errs []error
	if err := c.Limits.Validate(); err != nil {
		errs = append(errs, prefixErrs("limits.", err)...)
	}
	maxCost := c.Limits.withDefaults().BcryptMaxCost
	if c.BcryptCost != 0 && (c.BcryptCost < 4 || c.BcryptCost > maxCost) {
		errs = append(errs, fmt.Errorf("bcrypt_cost: must be between 4 and limits.bcrypt_max_cost (%d); 12 or more for production", maxCost))
	}
	if c.DerivedBudget > 1e6 {
		errs = append(errs, errors.New("derived_budget: at most 1000000 bcrypt-12 checks (negative: no bound)"))
	}
	if c.MaxConcurrent < 0 || c.MaxConcurrent > 4096 {
		errs = append(errs, errors.New("max_concurrent: must be between 1 and 4096 (or 0 for the CPU count)"))
	}
	return errors.Join(errs...)
}

func prefixErrs(prefix string, err error) []error {
	var out []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			out = append(out, fmt.Errorf("%s%w", prefix, e))
		}
		return out
	}
	return []error{fmt.Errorf("%s%w", prefix, err)}
}

func (c Config) withDefaults() Config {
	if c.BcryptCost == 0 {
		c.BcryptCost = DefaultBcryptCost
	}
	if c.MaxConcurrent == 0 {
		c.MaxConcurrent = runtime.NumCPU()
	}
	if c.DerivedBudget == 0 {
		c.DerivedBudget = 1
	}
	c.Limits = c.Limits.withDefaults()
	return c
}
