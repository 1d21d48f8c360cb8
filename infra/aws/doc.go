// Package aws provisions, pauses and removes a simswarm Docker Swarm on
// Amazon EC2 with aws-sdk-go-v2 (EC2, Auto Scaling, CloudWatch, SSM, IAM,
// STS).
//
// A cluster is a manager instance plus an Auto Scaling group of workers,
// with a key pair, a security group, two launch templates (user-data that
// installs Docker and forms the swarm), an instance role and profile per
// side, an SSM SecureString parameter for the worker join token, a
// CloudWatch idle alarm and the scale-to-zero policy it runs. Every
// resource carries the tag simswarm:cluster=<name> (TagCluster).
//
// Use:
//
//	p, _ := aws.NewProvider(ctx, aws.Options{Region: "eu-central-1"})
//	plan, _ := p.Plan(ctx, spec)   // read-only: what Up would do
//	res, _ := p.Up(ctx, spec)      // converges; res.PrivateKey once, if AWS made the key
//	st, _ := p.Status(ctx, name)
//	p.Halt(ctx, name); p.Resume(ctx, name); p.Destroy(ctx, name)
//
// Guarantees: Up converges - re-running it with the same spec makes no
// mutating call - and starts a halted cluster. Plan makes only
// Describe/Get/List calls. Destroy deletes in dependency order, succeeds
// when nothing is left and is safe to re-run. A resource with a cluster's
// name but without its tag is never adopted, changed or deleted. The
// worker join token never passes through simswarm or user-data: the
// manager writes it into the parameter, which only the workers' role may
// read. Credentials come from the SDK's default chain and never appear in
// errors (every failure is an *Error: one line, the step and what AWS
// said, key-shaped strings cut out) or logs.
//
// CloudWatch is called with the query protocol: every CloudWatch endpoint
// accepts it, and emulators such as moto route only it.
package aws
