package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// collSessionRevocations holds the dashboard sessions logged out before
// their expiry, so that every controller of a stack, and every later one,
// refuses them: {_id: session id, expiresAt}.
const collSessionRevocations = "sessionrevocations"

// RevokeSession records that session id is logged out; it would have
// expired at expires, after which it is refused anyway and its record may
// go (PruneSessionRevocations).
func (s *Store) RevokeSession(ctx context.Context, id string, expires time.Time) error {
	_, err := s.DB.Collection(collSessionRevocations).ReplaceOne(ctx, bson.M{"_id": id},
		bson.M{"_id": id, "expiresAt": expires.UTC()}, options.Replace().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("revoke session: %w", err)
	}
	return nil
}

// SessionRevoked reports whether session id was logged out.
func (s *Store) SessionRevoked(ctx context.Context, id string) (bool, error) {
	err := s.DB.Collection(collSessionRevocations).FindOne(ctx, bson.M{"_id": id},
		options.FindOne().SetProjection(bson.M{"_id": 1})).Err()
	switch {
	case errors.Is(err, mongo.ErrNoDocuments):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("check session revocation: %w", err)
	}
	return true, nil
}

// PruneSessionRevocations forgets the revocations of sessions that expired
// before t (they are refused for their expiry now).
func (s *Store) PruneSessionRevocations(ctx context.Context, t time.Time) error {
	if _, err := s.DB.Collection(collSessionRevocations).DeleteMany(ctx, bson.M{"expiresAt": bson.M{"$lt": t.UTC()}}); err != nil {
		return fmt.Errorf("prune session revocations: %w", err)
	}
	return nil
}
