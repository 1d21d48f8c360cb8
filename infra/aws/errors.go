package aws

import (
	"context"
	"errors"
	"fmt"
	"net"
	"regexp"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/smithy-go"
)

// ErrNoCredentials is what every call returns (wrapped) when the SDK's
// default chain found no credentials.
var ErrNoCredentials = errors.New("no AWS credentials found: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or configure ~/.aws/credentials")

// Error is a failed AWS call, told in one line a user can act on: what
// simswarm was doing, and what AWS said, without request ids, retry
// chatter or anything that could carry a credential.
type Error struct {
	Step string // what simswarm was doing, e.g. "create security group simswarm-a"
	Code string // the AWS error code, "" if the call never got an answer
	msg  string
	err  error
}

func (e *Error) Error() string { return e.Step + ": " + e.msg }
func (e *Error) Unwrap() error { return e.err }

// markedCredentials tags a failure of the credential chain, so that wrap
// can recognise it whatever the SDK's wording.
type markedCredentials struct{ aws.CredentialsProvider }

type credentialsError struct{ err error }

func (e credentialsError) Error() string { return e.err.Error() }
func (e credentialsError) Unwrap() error { return e.err }

func (m markedCredentials) Retrieve(ctx context.Context) (aws.Credentials, error) {
	c, err := m.CredentialsProvider.Retrieve(ctx)
	if err != nil {
		return c, credentialsError{err}
	}
	if !c.HasKeys() {
		return c, credentialsError{errors.New("empty credentials")}
	}
	return c, nil
}

// wrap turns an SDK error into an *Error for step; nil stays nil.
func wrap(step string, err error) error {
	if err == nil {
		return nil
	}
	var own *Error
	if errors.As(err, &own) {
		return err
	}
	return &Error{Step: step, Code: apiCode(err), msg: friendly(err), err: err}
}

func friendly(err error) string {
	var ce credentialsError
	if errors.As(err, &ce) {
		return ErrNoCredentials.Error()
	}
	if errors.Is(err, context.Canceled) {
		return "interrupted"
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "timed out"
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		var ne net.Error
		var oe *net.OpError
		if errors.As(err, &oe) {
			return "cannot reach AWS: " + redact(oe.Error())
		}
		if errors.As(err, &ne) {
			return "cannot reach AWS: " + redact(ne.Error())
		}
		return redact(sdkCause(err.Error()))
	}
	msg := redact(oneLine(ae.ErrorMessage()))
	switch code := ae.ErrorCode(); code {
	case "AuthFailure", "UnrecognizedClientException", "InvalidClientTokenId", "SignatureDoesNotMatch",
		"IncompleteSignature", "ExpiredToken", "ExpiredTokenException", "RequestExpired", "InvalidAccessKeyId":
		// AWS's text for these can quote the request's credential scope
		// (with the access key id); the code says enough.
		return "AWS rejected the credentials (" + code + "); check AWS_PROFILE / ~/.aws/credentials"
	case "UnauthorizedOperation", "AccessDenied", "AccessDeniedException":
		// The message of UnauthorizedOperation is an encoded blob.
		return "not allowed by your IAM policy (" + code + "); infra/README.md lists the permissions simswarm needs"
	case "InstanceLimitExceeded", "VcpuLimitExceeded", "MaxSpotInstanceCountExceeded", "LimitExceeded",
		"ResourceLimitExceeded", "RulesPerSecurityGroupLimitExceeded", "SecurityGroupLimitExceeded",
		"AddressLimitExceeded", "KeyPairLimitExceeded", "AlreadyExists.LimitExceeded":
		return "AWS quota exceeded (" + code + "): " + msg + " - ask for more in the Service Quotas console, or use fewer or smaller instances"
	case "Unsupported", "InvalidInstanceType", "UnsupportedOperation", "InsufficientInstanceCapacity":
		return "instance type not available (" + code + "): " + msg
	case "RequestLimitExceeded", "Throttling", "ThrottlingException":
		return "AWS is throttling requests (" + code + "); try again in a minute"
	}
	if msg == "" {
		return ae.ErrorCode()
	}
	return ae.ErrorCode() + ": " + msg
}

// configError explains a failure to load the SDK configuration.
func configError(profile string, err error) error {
	var pe config.SharedConfigProfileNotExistError
	if errors.As(err, &pe) {
		return fmt.Errorf("AWS profile %q not found in ~/.aws/config or ~/.aws/credentials", profile)
	}
	return fmt.Errorf("load AWS configuration: %s", redact(sdkCause(err.Error())))
}

// alreadyThereCodes are what AWS answers a create whose object exists.
var alreadyThereCodes = []string{
	"EntityAlreadyExists", "AlreadyExists", "InvalidKeyPair.Duplicate", "InvalidGroup.Duplicate",
	"InvalidPermission.Duplicate", "InvalidLaunchTemplateName.AlreadyExistsException", "ParameterAlreadyExists",
}

// alreadyThere tells whether err says the object a create made exists.
func alreadyThere(err error) bool { return slices.Contains(alreadyThereCodes, apiCode(err)) }

// staleViewError is a create that found its object already there: the view
// it was planned from is stale, most often because the SDK retried a create
// whose first answer was lost. Up observes again and adopts the object when
// it carries the cluster's tag (and refuses it when it does not).
type staleViewError struct {
	kind, name string
	err        error
}

func (e *staleViewError) Error() string { return e.err.Error() }
func (e *staleViewError) Unwrap() error { return e.err }

// goneCodes are what AWS answers a delete whose object is not there.
var goneCodes = []string{
	"NoSuchEntity", "InvalidGroup.NotFound", "InvalidKeyPair.NotFound", "InvalidLaunchTemplateId.NotFound",
	"InvalidLaunchTemplateName.NotFoundException", "ParameterNotFound", "ResourceNotFound",
}

// deleted wraps the answer to a delete. The object being gone is what the
// delete wanted, whoever removed it: most often the delete itself, whose
// first answer was lost and which the SDK sent again. (Auto Scaling and
// CloudWatch answer a missing object with a ValidationError that only its
// text tells apart.)
func deleted(step string, err error) error {
	if err == nil || slices.Contains(goneCodes, apiCode(err)) {
		return nil
	}
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorCode() == "ValidationError" && strings.Contains(strings.ToLower(ae.ErrorMessage()), "not found") {
		return nil
	}
	return wrap(step, err)
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// Access key ids have a fixed shape; a secret key never travels in a
// message, but 40-character base64 runs next to a key id are cut too.
var secretRE = regexp.MustCompile(`\b(AKIA|ASIA|AIDA|AROA)[A-Z0-9]{12,}\b|\b[A-Za-z0-9/+]{40}\b`)

// redact removes anything shaped like an AWS key from s.
func redact(s string) string { return secretRE.ReplaceAllString(s, "[redacted]") }

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// lastLine keeps the innermost part of a chain of SDK wrappers
// ("operation error X: Y, https response error ...: <cause>").
func sdkCause(s string) string {
	s = oneLine(s)
	if i := strings.LastIndex(s, ", "); i >= 0 && strings.HasPrefix(s, "operation error") {
		return s[i+2:]
	}
	return s
}
