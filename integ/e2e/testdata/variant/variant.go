// Package variant holds what the end-to-end suite's variant apps share.
package variant

import (
	"fmt"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
)

// Synth synthesizes app, and exits with status 1 and the construct's message (a prop refused at
// synth panics) prefixed by name when it fails.
func Synth(app awscdk.App, name string) {
	if err := func() (err error) {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("%v", p)
			}
		}()
		app.Synth(nil)
		return nil
	}(); err != nil {
		fmt.Fprintln(os.Stderr, name+":", err)
		os.Exit(1)
	}
}
