package session

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestMemoryStore(t *testing.T) {
	runStoreSuite(t, harness{
		open: func(t *testing.T, cfg Config) Store {
			st, err := NewMemory(cfg)
			if err != nil {
				t.Fatal(err)
			}
			return st
		},
	})
}

func TestMemoryEviction(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	st, err := NewMemory(Config{MaxSessions: 10, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := range 25 {
		clk.Advance(time.Second)
		id, err := st.Create(ctx, testSession(t, i))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
		if n := st.Len(); n > 10 {
			t.Fatalf("%d sessions held, bound is 10", n)
		}
	}
	for i, id := range ids {
		_, err := st.Load(ctx, id)
		if i < 15 && !errors.Is(err, ErrNotFound) {
			t.Errorf("session %d (oldest) not evicted: %v", i, err)
		}
		if i >= 15 && err != nil {
			t.Errorf("session %d (newest) evicted: %v", i, err)
		}
	}
	// Evicted sessions leave no index entries behind.
	if n, err := st.RevokePerson(ctx, testSession(t, 0).NRNRef); err != nil || n != 0 {
		t.Errorf("RevokePerson of an evicted session = %d, %v", n, err)
	}

	// Expired sessions go before live ones, even when the store is not full.
	clk.Advance(DefaultIdleTimeout)
	if _, err := st.Create(ctx, testSession(t, 99)); err != nil {
		t.Fatal(err)
	}
	if n := st.Len(); n != 1 {
		t.Errorf("after the idle timeout and one create, %d sessions held, want 1", n)
	}
}

func TestMemoryRecentlyTouchedSurvivesEviction(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	st, err := NewMemory(Config{MaxSessions: 3, TouchInterval: time.Second, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := range 3 {
		id, err := st.Create(ctx, testSession(t, i))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	clk.Advance(2 * time.Second)
	if _, err := st.Load(ctx, ids[0]); err != nil { // touch the oldest
		t.Fatal(err)
	}
	if _, err := st.Create(ctx, testSession(t, 9)); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Load(ctx, ids[0]); err != nil {
		t.Errorf("the touched session was evicted: %v", err)
	}
	if _, err := st.Load(ctx, ids[1]); !errors.Is(err, ErrNotFound) {
		t.Errorf("the least recently touched session survived: %v", err)
	}
}
