package wsevent

import (
	"encoding/base64"
	"fmt"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/chatstack/websocketchatapi/protocol"
)

// frameResponse answers with status 200 and frame as the body, which the route response of
// a two-way route sends to the client.
func frameResponse(frame any) events.APIGatewayProxyResponse {
	return events.APIGatewayProxyResponse{StatusCode: http.StatusOK, Body: string(protocol.Encode(frame))}
}

// internalError is the error frame of an unexpected failure of action: it never says more.
func internalError(action string) protocol.Error {
	e := protocol.NewError(protocol.CodeInternal, "internal error; try again")
	e.Action = action
	return e
}

// textResponse answers $connect or $disconnect with status and a plain text body.
func textResponse(status int, body string) events.APIGatewayProxyResponse {
	return events.APIGatewayProxyResponse{
		StatusCode: status,
		Headers:    map[string]string{"Content-Type": "text/plain; charset=utf-8"},
		Body:       body,
	}
}

// internalErrorText is the $connect and $disconnect answer to a panic.
func internalErrorText() events.APIGatewayProxyResponse {
	return textResponse(http.StatusInternalServerError, "internal error")
}

// requestBody returns the message, decoding it when API Gateway passed it base64-encoded.
func requestBody(req events.APIGatewayWebsocketProxyRequest) ([]byte, error) {
	if !req.IsBase64Encoded {
		return []byte(req.Body), nil
	}
	b, err := base64.StdEncoding.DecodeString(req.Body)
	if err != nil {
		return nil, fmt.Errorf("decode base64 body: %w", err)
	}
	return b, nil
}
