package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/simswarm/simswarm/api"
)

// campaignDoc is the stored form. Spec and the user's metadata are kept as
// JSON so the api types (json tags, custom Duration) round-trip exactly and
// label keys with dots need no escaping; the fields the store conditions on
// are first-class.
type campaignDoc struct {
	Name            string    `bson:"_id"`
	UID             string    `bson:"uid"`
	Generation      int64     `bson:"generation"`
	ResourceVersion int64     `bson:"resourceVersion"`
	Epoch           int64     `bson:"epoch"`
	Created         time.Time `bson:"created"`
	Object          string    `bson:"object"` // Campaign without status
	Status          string    `bson:"status,omitempty"`
	// Deletion is set by Delete: the object stays, refusing changes, until
	// the reconciler has removed its run records (Finish).
	Deletion *time.Time `bson:"deletion,omitempty"`
	// Purge: delete the results too (else kept as a result set).
	Purge bool `bson:"purge,omitempty"`
}

func newUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// object returns the JSON of c's user-owned parts (type, metadata without
// server fields, spec).
func object(c *api.Campaign) (string, error) {
	o := api.Campaign{TypeMeta: c.TypeMeta, Spec: c.Spec}
	o.Metadata = api.ObjectMeta{Name: c.Metadata.Name, Labels: c.Metadata.Labels, Annotations: c.Metadata.Annotations}
	if o.APIVersion == "" {
		o.APIVersion = api.APIVersion
	}
	if o.Kind == "" {
		o.Kind = api.KindCampaign
	}
	b, err := json.Marshal(o)
	return string(b), err
}

func specJSON(s api.CampaignSpec) []byte {
	b, _ := json.Marshal(s)
	return b
}

func (d *campaignDoc) campaign() (*api.Campaign, error) {
	var c api.Campaign
	if err := json.Unmarshal([]byte(d.Object), &c); err != nil {
		return nil, fmt.Errorf("decode campaign %s: %w", d.Name, err)
	}
	if d.Status != "" {
		if err := json.Unmarshal([]byte(d.Status), &c.Status); err != nil {
			return nil, fmt.Errorf("decode status of %s: %w", d.Name, err)
		}
	}
	created := d.Created.UTC()
	c.Metadata.UID = d.UID
	c.Metadata.Generation = d.Generation
	c.Metadata.ResourceVersion = fmt.Sprint(d.ResourceVersion)
	c.Metadata.CreationTimestamp = &created
	if d.Deletion != nil {
		t := d.Deletion.UTC()
		c.Metadata.DeletionTimestamp = &t
		if c.Status.Deletion == nil {
			c.Status.Deletion = &api.DeletionStatus{}
		}
		c.Status.Deletion.Purge = d.Purge
	}
	return &c, nil
}

// Create stores a new campaign with a fresh UID, generation 1 and
// resourceVersion 1; ErrAlreadyExists if the name is taken.
func (s *Store) Create(ctx context.Context, c *api.Campaign) (*api.Campaign, error) {
	obj, err := object(c)
	if err != nil {
		return nil, err
	}
	d := campaignDoc{Name: c.Metadata.Name, UID: newUID(), Generation: 1, ResourceVersion: 1,
		Created: s.now().UTC().Truncate(time.Millisecond), Object: obj}
	s.campaignWrites.Lock()
	_, err = s.DB.Collection(collCampaigns).InsertOne(ctx, d)
	s.campaignWrites.Unlock()
	if err != nil {
		if mongo.IsDuplicateKeyError(err) {
			return nil, fmt.Errorf("campaign %s: %w", c.Metadata.Name, ErrAlreadyExists)
		}
		return nil, fmt.Errorf("create campaign %s: %w", c.Metadata.Name, err)
	}
	return d.campaign()
}

func (s *Store) getDoc(ctx context.Context, name string) (*campaignDoc, error) {
	var d campaignDoc
	err := s.DB.Collection(collCampaigns).FindOne(ctx, bson.M{"_id": name}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, fmt.Errorf("campaign %s: %w", name, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get campaign %s: %w", name, err)
	}
	return &d, nil
}

// Get returns the campaign called name, or ErrNotFound.
func (s *Store) Get(ctx context.Context, name string) (*api.Campaign, error) {
	d, err := s.getDoc(ctx, name)
	if err != nil {
		return nil, err
	}
	return d.campaign()
}

// List returns every campaign, by name.
func (s *Store) List(ctx context.Context) ([]*api.Campaign, error) {
	cur, err := s.DB.Collection(collCampaigns).Find(ctx, bson.M{})
	if err != nil {
		return nil, fmt.Errorf("list campaigns: %w", err)
	}
	var docs []campaignDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("list campaigns: %w", err)
	}
	out := make([]*api.Campaign, 0, len(docs))
	for i := range docs {
		c, err := docs[i].campaign()
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	sortByName(out)
	return out, nil
}

// Update replaces the spec, labels and annotations of the campaign named
// c.Metadata.Name if its stored resourceVersion still equals
// c.Metadata.ResourceVersion (ErrConflict otherwise). Generation is bumped
// when the spec changed. Status is left alone.
func (s *Store) Update(ctx context.Context, c *api.Campaign) (*api.Campaign, error) {
	var rv int64
	if _, err := fmt.Sscan(c.Metadata.ResourceVersion, &rv); err != nil {
		return nil, fmt.Errorf("campaign %s: resourceVersion %q: %w", c.Metadata.Name, c.Metadata.ResourceVersion, ErrConflict)
	}
	cur, err := s.getDoc(ctx, c.Metadata.Name)
	if err != nil {
		return nil, err
	}
	if cur.ResourceVersion != rv || (c.Metadata.UID != "" && c.Metadata.UID != cur.UID) {
		return nil, fmt.Errorf("campaign %s: %w", c.Metadata.Name, ErrConflict)
	}
	if cur.Deletion != nil {
		return nil, deletingError(cur.Name)
	}
	old, err := cur.campaign()
	if err != nil {
		return nil, err
	}
	obj, err := object(c)
	if err != nil {
		return nil, err
	}
	gen := cur.Generation
	if !bytes.Equal(specJSON(old.Spec), specJSON(c.Spec)) {
		gen++
	}
	if obj == cur.Object {
		return old, nil // nothing changed: no write, no new resourceVersion
	}
	s.campaignWrites.Lock()
	res, err := s.DB.Collection(collCampaigns).UpdateOne(ctx,
		bson.M{"_id": cur.Name, "uid": cur.UID, "resourceVersion": rv, "deletion": bson.M{"$exists": false}},
		bson.M{"$set": bson.M{"object": obj, "generation": gen},
			"$inc": bson.M{"resourceVersion": 1}})
	s.campaignWrites.Unlock()
	if err != nil {
		return nil, fmt.Errorf("update campaign %s: %w", c.Metadata.Name, err)
	}
	if res.MatchedCount == 0 {
		return nil, fmt.Errorf("campaign %s: %w", c.Metadata.Name, ErrConflict)
	}
	return s.Get(ctx, c.Metadata.Name)
}

// Apply creates the campaign or updates the stored one to c's spec, labels
// and annotations whatever its resourceVersion (server-side apply). created
// tells which happened.
func (s *Store) Apply(ctx context.Context, c *api.Campaign) (out *api.Campaign, created bool, err error) {
	for attempt := 0; attempt < 10; attempt++ {
		cur, err := s.Get(ctx, c.Metadata.Name)
		if errors.Is(err, ErrNotFound) {
			out, err := s.Create(ctx, c)
			if errors.Is(err, ErrAlreadyExists) {
				continue
			}
			return out, err == nil, err
		}
		if err != nil {
			return nil, false, err
		}
		next := *c
		next.Metadata.ResourceVersion = cur.Metadata.ResourceVersion
		next.Metadata.UID = cur.Metadata.UID
		out, err = s.Update(ctx, &next)
		if errors.Is(err, ErrConflict) || errors.Is(err, ErrNotFound) {
			continue
		}
		return out, false, err
	}
	return nil, false, fmt.Errorf("apply campaign %s: %w", c.Metadata.Name, ErrConflict)
}

// UpdateStatus writes the status of the campaign (name, uid) as the leader
// of epoch. It fails with ErrFenced if a higher epoch wrote the status, and
// ErrNotFound if the object is gone or was re-created.
func (s *Store) UpdateStatus(ctx context.Context, name, uid string, st api.CampaignStatus, epoch int64) error {
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	s.campaignWrites.Lock()
	res, err := s.DB.Collection(collCampaigns).UpdateOne(ctx,
		bson.M{"_id": name, "uid": uid, "epoch": bson.M{"$lte": epoch}},
		bson.M{"$set": bson.M{"status": string(b), "epoch": epoch}, "$inc": bson.M{"resourceVersion": 1}})
	s.campaignWrites.Unlock()
	if err != nil {
		return fmt.Errorf("update status of %s: %w", name, err)
	}
	if res.MatchedCount == 1 {
		return nil
	}
	d, err := s.getDoc(ctx, name)
	if err != nil {
		return err
	}
	if d.UID != uid {
		return fmt.Errorf("campaign %s uid %s: %w", name, uid, ErrNotFound)
	}
	return fmt.Errorf("status of %s at epoch %d (stored %d): %w", name, epoch, d.Epoch, ErrFenced)
}
