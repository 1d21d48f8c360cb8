// Package mototest runs moto_server, the AWS API emulator (moto 5.x), for
// tests: EC2, Auto Scaling, CloudWatch, SSM, IAM and STS on one loopback
// port.
//
// Use:
//
//	func TestMain(m *testing.M) { os.Exit(mototest.Main(m)) }
//
//	s := mototest.Shared(t)  // started once per test binary, state reset
//	s.URL                    // endpoint for the SDK (BaseEndpoint)
//	own := mototest.Start(t) // a server of the test's own, stopped at its end
//
// moto_server is looked up in PATH, then in $HOME/.pyenv/shims. It comes
// with the machine image and cannot be installed from the registries
// here; when it is missing the test fails under CI (CI=true) and is
// skipped with the reason otherwise.
//
// Guarantees: the server listens on 127.0.0.1 only, on a free port; every
// Shared call returns it with moto's state reset (POST /moto-api/reset),
// so tests see no resources of earlier tests — they must not run in
// parallel with each other. Main stops the server when the tests end; it
// also dies with the test process (parent-death signal).
package mototest
