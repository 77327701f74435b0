package managementapitest

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/chatstack/websocketchatapi/internal/managementapi"
)

// Client returns a managementapi client of the server's stage, which signs its requests with
// static dummy credentials in us-east-1.
func (s *Server) Client() *managementapi.Client {
	return managementapi.New(aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", "")}, s.URL)
}
