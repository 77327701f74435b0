package local

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/chatstack/websocketchatapi/integ/internal/gateway"
	"github.com/chatstack/websocketchatapi/integ/internal/iamcheck"
)

// sessionKeyPrefix starts the access key id of a role session that Credentials makes (ASIA,
// as AWS's temporary credentials).
const sessionKeyPrefix = "ASIALOCAL"

// Credentials are local temporary credentials of a session of one of the stack's roles,
// which the emulator's IAM checks (an AWS_IAM $connect, the DynamoDB, SQS and @connections
// endpoints) map to that role's policies.
type Credentials struct {
	// AccessKeyID, SecretAccessKey and SessionToken sign requests with SigV4.
	AccessKeyID, SecretAccessKey, SessionToken string
	// Principal is the session's ARN: arn:<partition>:sts::<account>:assumed-role/<role>/<session>.
	Principal string
}

// clientSession is a role session that Credentials handed out.
type clientSession struct {
	creds  Credentials
	policy *iamcheck.Policy
	caller gateway.IAMCaller
}

// Credentials returns credentials of a session named session of the stack's role
// roleLogicalID, as sts:AssumeRole would (the role's trust policy is not evaluated: the test
// decides who assumes it). The same role and session give the same credentials.
func (e *Env) Credentials(roleLogicalID, session string) (Credentials, error) {
	role, ok := e.Stack.Roles[roleLogicalID]
	if !ok {
		return Credentials{}, fmt.Errorf("credentials: the stack has no role %q", roleLogicalID)
	}
	if session == "" || len(session) > 64 {
		return Credentials{}, errors.New("credentials: the session name must be 1 to 64 characters, as sts:AssumeRole requires")
	}
	sum := sha256.Sum256([]byte(roleLogicalID + "/" + session))
	key := sessionKeyPrefix + base32.StdEncoding.EncodeToString(sum[:])[:20-len(sessionKeyPrefix)]
	e.mu.Lock()
	defer e.mu.Unlock()
	if s, ok := e.sessions[key]; ok {
		return s.creds, nil
	}
	secret := make([]byte, 20)
	if _, err := rand.Read(secret); err != nil {
		return Credentials{}, err
	}
	env := e.Stack.Env
	principal := fmt.Sprintf("arn:%s:sts::%s:assumed-role/%s/%s", env.Partition, env.AccountID, role.Name, session)
	policy, err := iamcheck.ForRole(role, principal)
	if err != nil {
		return Credentials{}, err
	}
	roleID := "AROALOCAL" + base32.StdEncoding.EncodeToString(sum[10:])[:12]
	s := &clientSession{
		creds:  Credentials{AccessKeyID: key, SecretAccessKey: hex.EncodeToString(secret), SessionToken: "local-session-" + key, Principal: principal},
		policy: policy,
		caller: gateway.IAMCaller{AccountID: env.AccountID, Caller: roleID + ":" + session, User: roleID + ":" + session, UserArn: principal, AccessKey: key},
	}
	if e.sessions == nil {
		e.sessions = map[string]*clientSession{}
	}
	e.sessions[key] = s
	return s.creds, nil
}

// authorizeIAM is the gateway's check of an AWS_IAM $connect: the SigV4 signature with the
// secret of the session the access key names (Credentials), the scope's region and service,
// the session token, then execute-api:Invoke on the method ARN under the role's policies. The
// refusals are 403 with AWS's types and messages.
func (e *Env) authorizeIAM(r *http.Request, methodARN string) (gateway.IAMCaller, error) {
	cred, err := iamcheck.RequestCredential(r)
	if err != nil {
		return gateway.IAMCaller{}, &gateway.ManagementError{Status: http.StatusForbidden, Type: "MissingAuthenticationTokenException", Message: "Forbidden"}
	}
	e.mu.Lock()
	s := e.sessions[cred.AccessKeyID]
	e.mu.Unlock()
	token := r.Header.Get("X-Amz-Security-Token")
	if token == "" {
		token = r.URL.Query().Get("X-Amz-Security-Token")
	}
	if s == nil || token != s.creds.SessionToken {
		return gateway.IAMCaller{}, &gateway.ManagementError{Status: http.StatusForbidden, Type: "UnrecognizedClientException", Message: "The security token included in the request is invalid."}
	}
	if err := e.checkSignature(r, s.creds.SecretAccessKey); err != nil {
		return gateway.IAMCaller{}, err
	}
	d := s.policy.Allowed("execute-api:Invoke", methodARN)
	if !d.Allowed {
		e.deny("execute-api", d)
		return gateway.IAMCaller{}, &gateway.ManagementError{Status: http.StatusForbidden, Type: "AccessDeniedException", Message: d.Reason}
	}
	return s.caller, nil
}

// checkSignature verifies r's SigV4 signature and scope, answering as API Gateway does.
func (e *Env) checkSignature(r *http.Request, secret string) error {
	invalid := func(msg string) error {
		return &gateway.ManagementError{Status: http.StatusForbidden, Type: "InvalidSignatureException", Message: msg}
	}
	now := time.Now().UTC()
	cred, err := iamcheck.VerifySigV4(r, secret, now)
	switch {
	case errors.Is(err, iamcheck.ErrSignatureExpired):
		return invalid(fmt.Sprintf("Signature expired: %s (%v)", cred.Date, err))
	case err != nil:
		return invalid("The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")
	case cred.Region != e.Stack.Env.Region:
		return invalid("Credential should be scoped to a valid region. ")
	case cred.Service != "execute-api":
		return invalid("Credential should be scoped to correct service: 'execute-api'. ")
	}
	return nil
}
