package lambdaemu

import (
	"encoding/json"
	"io"
	"time"
)

// Limits and defaults that mirror Lambda's.
const (
	// DefaultTimeout is a function's timeout when Function.Timeout is zero.
	DefaultTimeout = 3 * time.Second
	// DefaultMemorySize is a function's memory size in MB when Function.MemorySize is zero.
	DefaultMemorySize = 128
	// DefaultMaxConcurrency is how many processes a function may run at once when
	// Function.MaxConcurrency is zero.
	DefaultMaxConcurrency = 10
	// DefaultInitTimeout bounds the init phase (process start to its first /next) when
	// Function.InitTimeout is zero; Lambda gives on-demand functions 10 seconds.
	DefaultInitTimeout = 10 * time.Second
	// DefaultRegion is the region when Options.Region is empty.
	DefaultRegion = "us-east-1"
	// DefaultAccountID is the account in function ARNs when Options.AccountID is empty.
	DefaultAccountID = "000000000000"
	// MaxRequestSize is the largest payload that Invoke accepts (a synchronous invocation).
	MaxRequestSize = 6291456
	// MaxResponseSize is the largest response that a function may return.
	MaxResponseSize = 6291556
)

// Error types that the emulator itself reports in FunctionError.Type, as Lambda does.
const (
	// ErrorTypeExit: the process exited during an invocation or before its first /next.
	ErrorTypeExit = "Runtime.ExitError"
	// ErrorTypeTimeout: the invocation (or the init phase) ran past its time limit.
	ErrorTypeTimeout = "Sandbox.Timedout"
	// ErrorTypeInit: the runtime posted /init/error without naming an error type.
	ErrorTypeInit = "Runtime.InitError"
	// ErrorTypeUnhandled: the runtime posted an invocation error without naming its type.
	ErrorTypeUnhandled = "Unhandled"
	// ErrorTypeResponseTooLarge: the response was larger than MaxResponseSize.
	ErrorTypeResponseTooLarge = "Function.ResponseSizeTooLarge"
)

// Options configure an Emulator. Every process gets the PATH that the host had when New
// ran; no other variable of the host's environment.
type Options struct {
	// Region is exported to functions as AWS_REGION and AWS_DEFAULT_REGION and used in ARNs.
	// Default DefaultRegion.
	Region string
	// AccountID is the account in the function ARN that invocations carry.
	// Default DefaultAccountID.
	AccountID string
	// Credentials are exported to every function, as Lambda exports its execution role's.
	// Empty fields are not exported.
	Credentials Credentials
	// Env is added to every function's environment, after the variables that Lambda sets
	// (it may override them, except AWS_LAMBDA_RUNTIME_API); for endpoints such as
	// AWS_ENDPOINT_URL_DYNAMODB. Function.ExtraEnv wins over it.
	Env map[string]string
	// LogSink, when set, receives every output line of every function, prefixed with
	// "[name] ", plus the emulator's START, END and REPORT lines. Writes are serialized.
	LogSink io.Writer
	// LogLines is how many lines Logs keeps per function. Default 2000.
	LogLines int
}

// Credentials are AWS credentials for the functions.
type Credentials struct {
	// AccessKeyID is exported as AWS_ACCESS_KEY_ID.
	AccessKeyID string
	// SecretAccessKey is exported as AWS_SECRET_ACCESS_KEY.
	SecretAccessKey string
	// SessionToken is exported as AWS_SESSION_TOKEN.
	SessionToken string
}

// Function configures one Lambda function.
type Function struct {
	// Name is the function name (AWS_LAMBDA_FUNCTION_NAME): letters, digits, '-', '_' and '.'.
	Name string
	// Dir is the function's code folder, holding the bootstrap executable; it is the
	// process's working directory and LAMBDA_TASK_ROOT.
	Dir string
	// Handler is exported as _HANDLER. Default "bootstrap".
	Handler string
	// Environment holds the function's own variables (its template's Environment). Lambda's
	// reserved keys (AWS_REGION, AWS_LAMBDA_*, credentials, ...) are refused, as Lambda does.
	Environment map[string]string
	// ExtraEnv is added last, for the emulator's wiring (endpoints and the like). It may
	// override anything except AWS_LAMBDA_RUNTIME_API.
	ExtraEnv map[string]string
	// Timeout bounds an invocation. Default DefaultTimeout.
	Timeout time.Duration
	// InitTimeout bounds the init phase. Default DefaultInitTimeout.
	InitTimeout time.Duration
	// MemorySize in MB, exported as AWS_LAMBDA_FUNCTION_MEMORY_SIZE (not enforced).
	// Default DefaultMemorySize.
	MemorySize int
	// Architecture is the function's configured architecture ("arm64" or "x86_64"). It is
	// informational: Dir must hold a bootstrap that this machine runs, natively (see
	// BuildHost) or through Interpreter.
	Architecture string
	// Interpreter, when set, is the absolute path of an emulator that runs the bootstrap
	// (built for another architecture) as "<Interpreter> <Dir>/bootstrap", such as
	// /usr/bin/qemu-aarch64-static for an arm64 bootstrap on an amd64 host; FindInterpreter
	// finds it. qemu-user runs the program in its own process, so the process, its group and
	// its signals behave as for a native bootstrap.
	Interpreter string
	// MaxConcurrency is how many processes may serve the function at once; invocations
	// beyond it wait for a free process. Default DefaultMaxConcurrency.
	MaxConcurrency int
}

// Result is the outcome of one invocation.
type Result struct {
	// RequestID is the invocation's request id (Lambda-Runtime-Aws-Request-Id).
	RequestID string
	// Payload is the function's response; when Err is set, the error document that Lambda
	// would return ({"errorMessage", "errorType", ...}).
	Payload []byte
	// Err is set when the function failed: an error that the runtime posted, a timeout, an
	// exit, or an init failure.
	Err *FunctionError
	// ColdStart reports that a new process was started for this invocation.
	ColdStart bool
	// InitDuration is the init phase of a cold start: from process start to its first
	// /next (or to its failure). Zero for a warm start.
	InitDuration time.Duration
	// Duration runs from handing the event to the runtime to its response or error; for a
	// timeout, the timeout.
	Duration time.Duration
	// PID is the process that served the invocation.
	PID int
	// Log holds the output lines of the process during this invocation (and its init, on a
	// cold start), between the emulator's START and END/REPORT lines, as Lambda's
	// LogType=Tail gives; at most the last 256 KiB.
	Log string
}

// FunctionError is a function error as Lambda reports it.
type FunctionError struct {
	// Type is the error type: the errorType that the runtime posted (aws-lambda-go posts the
	// Go type name of the returned error, such as "errorString"), or one of the ErrorType
	// constants.
	Type string
	// Message is the error message.
	Message string
	// StackTrace is the stackTrace that the runtime posted, as posted, or nil.
	StackTrace json.RawMessage
	// Init reports a failure of the init phase (an /init/error, or an exit, a timeout
	// before the first /next).
	Init bool
}

// Error returns "Type: Message".
func (e *FunctionError) Error() string {
	return e.Type + ": " + e.Message
}

// document returns the error as Lambda returns it to the invoker.
func (e *FunctionError) document() []byte {
	doc := struct {
		ErrorMessage string          `json:"errorMessage"`
		ErrorType    string          `json:"errorType"`
		StackTrace   json.RawMessage `json:"stackTrace,omitempty"`
	}{e.Message, e.Type, e.StackTrace}
	b, err := json.Marshal(doc)
	if err != nil {
		// Only an invalid StackTrace can fail; drop it.
		doc.StackTrace = nil
		b, _ = json.Marshal(doc)
	}
	return b
}
