package api

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
)

const validDoc = `apiVersion: simswarm.io/v1alpha1
kind: Campaign
metadata:
  name: aloha
  labels: {team: net}
spec:
  source:
    path: .
  build:
    command: [make, -j4]
  simulation:
    program: [./aloha]
    config: PureAloha
    runs: "0..9,20"
  timeout: 90s
  retries: 0
`

func TestParseManifestsMultiDocument(t *testing.T) {
	data := "# campaigns of the lab\n---\n" + validDoc + "---\n# nothing here\n---\n\n" +
		strings.Replace(validDoc, "name: aloha", "name: second", 1) + "...\n---\n"
	cs, err := ParseManifests([]byte(data), "c.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 2 {
		t.Fatalf("got %d campaigns, want 2", len(cs))
	}
	c := cs[0]
	if c.Metadata.Name != "aloha" || cs[1].Metadata.Name != "second" {
		t.Errorf("names = %q, %q", c.Metadata.Name, cs[1].Metadata.Name)
	}
	if c.Spec.Simulation.Config != "PureAloha" || c.Spec.Simulation.Runs != "0..9,20" ||
		c.Spec.Timeout.Duration != 90*time.Second || c.Spec.Retries == nil || *c.Spec.Retries != 0 ||
		strings.Join(c.Spec.Build.Command, " ") != "make -j4" || c.Metadata.Labels["team"] != "net" {
		t.Errorf("decoded spec wrong: %+v", c.Spec)
	}
	// Decoding does not default.
	if c.Spec.Simulation.IniFile != "" || c.Spec.Results != nil {
		t.Errorf("ParseManifests defaulted: %+v", c.Spec.Simulation)
	}
}

func TestParseManifestsJSON(t *testing.T) {
	js := `{"apiVersion":"simswarm.io/v1alpha1","kind":"Campaign","metadata":{"name":"j"},
	"spec":{"source":{"git":{"url":"https://example.org/inet.git","commit":"abc123"}},"simulation":{"program":["opp_run"]},"timeout":"10m"}}`
	cs, err := ParseManifests([]byte(js), "body")
	if err != nil {
		t.Fatal(err)
	}
	if got := cs[0].Spec.Timeout.Duration; got != 10*time.Minute {
		t.Errorf("timeout = %v, want 10m", got)
	}
	if cs[0].Spec.Source.Git.Commit != "abc123" {
		t.Errorf("git source not decoded: %+v", cs[0].Spec.Source)
	}
}

// decodeErr parses data and returns the error text, failing if none.
func decodeErr(t *testing.T, data string) string {
	t.Helper()
	_, err := ParseManifests([]byte(data), "campaign.yaml")
	if err == nil {
		t.Fatalf("no error for:\n%s", data)
	}
	return err.Error()
}

func TestParseManifestsStrict(t *testing.T) {
	tests := []struct {
		name string
		data string
		want []string // every line of the error, in order
	}{
		{"misspelled nested field in document 2", validDoc + "---\n" + strings.Replace(validDoc, "config:", "confg:", 1),
			[]string{`campaign.yaml: document 2: spec.simulation.confg: unknown field (did you mean "config"?)`}},
		{"field names are case-sensitive", strings.Replace(validDoc, "  labels:", "  Labels:", 1),
			[]string{`campaign.yaml: document 1: metadata.Labels: unknown field (did you mean "labels"?)`}},
		{"unknown top-level field lists the known ones", validDoc + "extra: 1\n",
			[]string{`campaign.yaml: document 1: extra: unknown field (known fields: apiVersion, kind, metadata, spec, status)`}},
		{"all problems of a document", strings.NewReplacer("program: [./aloha]", "program: ./aloha", "retries: 0", "retries: 1.5",
			"timeout: 90s", "timeout: 10 parsecs", "config: PureAloha", "config: 5", "command: [make, -j4]", "command: [make, {j: 4}]").Replace(validDoc),
			[]string{
				`campaign.yaml: document 1: spec.build.command[1]: expected a string, got a mapping (quote it)`,
				`campaign.yaml: document 1: spec.retries: expected an integer, got 1.5`,
				`campaign.yaml: document 1: spec.simulation.config: expected a string, got number 5 (quote it)`,
				`campaign.yaml: document 1: spec.simulation.program: expected a list, got string "./aloha"`,
				`campaign.yaml: document 1: spec.timeout: "10 parsecs" is not a duration (use e.g. 90s, 10m, 1h)`,
			}},
		{"map values", strings.Replace(validDoc, "{team: net}", "{team: [a]}", 1),
			[]string{`campaign.yaml: document 1: metadata.labels[team]: expected a string, got a list (quote it)`}},
		{"integer out of range", strings.Replace(validDoc, "retries: 0", "retries: 99999999999", 1),
			[]string{`campaign.yaml: document 1: spec.retries: 99999999999 is out of range`}},
		{"boolean", validDoc + "  suspend: yes please\n",
			[]string{`campaign.yaml: document 1: spec.suspend: expected true or false, got string "yes please"`}},
		{"spec not a mapping", "apiVersion: simswarm.io/v1alpha1\nkind: Campaign\nmetadata: {name: x}\nspec: [1]\n",
			[]string{`campaign.yaml: document 1: spec: expected a mapping of fields, got a list`}},
		{"wrong apiVersion", strings.Replace(validDoc, "simswarm.io/v1alpha1", "v1", 1),
			[]string{`campaign.yaml: document 1: apiVersion: must be "simswarm.io/v1alpha1", not string "v1"`}},
		{"wrong kind", strings.Replace(validDoc, "kind: Campaign", "kind: Pod", 1),
			[]string{`campaign.yaml: document 1: kind: must be "Campaign", not string "Pod"`}},
		{"missing kind", strings.Replace(validDoc, "kind: Campaign\n", "", 1),
			[]string{`campaign.yaml: document 1: kind: missing; a Campaign manifest starts with apiVersion: simswarm.io/v1alpha1 and kind: Campaign`}},
		{"not a mapping", "- a\n- b\n",
			[]string{`campaign.yaml: document 1: a manifest must be a mapping with apiVersion, kind, metadata and spec, not a list`}},
		{"duplicate key, line counted in the file", "---\n" + validDoc + "  retries: 3\n",
			[]string{`campaign.yaml: document 1: invalid YAML: yaml: unmarshal errors: line 18: key "retries" already set in map`}},
		{"syntax error, line counted in the file", validDoc + "---\n" + validDoc + "  bad: [1\n",
			[]string{`campaign.yaml: document 2: invalid YAML: yaml: line 34: did not find expected ',' or ']'`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := strings.Split(decodeErr(t, tt.data), "\n")
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("error:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestParseManifestsDecodeErrorType(t *testing.T) {
	_, err := ParseManifests([]byte(validDoc+"---\n"+validDoc+"  paralelism: 2\n"), "c.yaml")
	var de *DecodeError
	if !errors.As(err, &de) {
		t.Fatalf("want *DecodeError, got %T %v", err, err)
	}
	if de.Source != "c.yaml" || de.Document != 2 || de.Line != 18 || len(de.Errors) != 1 ||
		de.Errors[0].Path != "spec.paralelism" || !strings.Contains(de.Errors[0].Detail, `"parallelism"`) {
		t.Errorf("DecodeError = %+v", de)
	}
}

func TestParseManifestsRefusesEmptyAndHuge(t *testing.T) {
	if msg := decodeErr(t, "# only a comment\n---\n\n---\n"); !strings.Contains(msg, "no manifest found") {
		t.Errorf("empty file: %s", msg)
	}
	huge := validDoc + "# " + strings.Repeat("x", MaxManifestBytes) + "\n"
	start := time.Now()
	if msg := decodeErr(t, huge); !strings.Contains(msg, "more than the limit of 1048576") {
		t.Errorf("huge file: %s", msg)
	}
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Errorf("refusing a huge file took %v: it should not be parsed", d)
	}
}

// A billion-laughs document must fail (or succeed) quickly and without
// blowing up memory: the YAML library bounds alias expansion and the
// decoder bounds the expanded size.
func TestParseManifestsAliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("apiVersion: simswarm.io/v1alpha1\nkind: Campaign\nmetadata: {name: x}\n")
	b.WriteString("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n")
	for i := 1; i < 12; i++ {
		b.WriteString("a" + strconv.Itoa(i) + ": &a" + strconv.Itoa(i) + " [")
		for j := 0; j < 10; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("*a" + strconv.Itoa(i-1))
		}
		b.WriteString("]\n")
	}
	start := time.Now()
	_, err := ParseManifests([]byte(b.String()), "bomb.yaml")
	if err == nil {
		t.Fatal("alias bomb accepted")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("alias bomb took %v", d)
	}
	t.Logf("alias bomb: %v (%v)", err, time.Since(start))
}

// Aliases of one long string cost the YAML library nothing, but would
// expand to gigabytes of JSON: refused before conversion.
func TestParseManifestsStringAliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("apiVersion: simswarm.io/v1alpha1\nkind: Campaign\nmetadata: {name: x}\n")
	b.WriteString("s: &s \"" + strings.Repeat("x", 512<<10) + "\"\nl: [")
	for i := 0; i < 100_000; i++ {
		b.WriteString("*s,")
	}
	b.WriteString("*s]\n")
	start := time.Now()
	_, err := ParseManifests([]byte(b.String()), "bomb.yaml")
	if err == nil || !strings.Contains(err.Error(), "document expands to more than") {
		t.Fatalf("string alias bomb: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("string alias bomb took %v", d)
	}
}

// Every broken document is reported, not only the first.
func TestParseManifestsReportsEveryDocument(t *testing.T) {
	data := strings.Replace(validDoc, "config:", "confg:", 1) + "---\n" + validDoc + "---\n" + strings.Replace(validDoc, "retries: 0", "retries: x", 1)
	got := decodeErr(t, data)
	want := `campaign.yaml: document 1: spec.simulation.confg: unknown field (did you mean "config"?)
campaign.yaml: document 3: spec.retries: expected an integer, got string "x"`
	if got != want {
		t.Errorf("error:\n%s\nwant:\n%s", got, want)
	}
}
