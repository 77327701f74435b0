package chatapi

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3assets"
	"github.com/aws/jsii-runtime-go"

	"github.com/chatstack/websocketchatapi/constructs/chatapi/internal/bundling"
)

// bundler turns Go handler packages into Lambda code assets, built for provided.al2023 and
// keyed by a hash of their sources, so an unchanged handler is neither rebuilt nor re-uploaded.
type bundler struct {
	arch string // GOARCH
	v    validator
}

func newBundler(arch awslambda.Architecture, v validator) *bundler {
	goarch := "arm64"
	if *arch.Name() == *awslambda.Architecture_X86_64().Name() {
		goarch = "amd64"
	}
	return &bundler{arch: goarch, v: v}
}

// ownHandlers builds this module's handlers (lambdas/<name>), wherever the module's sources
// are: this checkout, or the read-only module cache when the module is a dependency.
func (b *bundler) ownHandlers(names []string) map[string]awslambda.Code {
	ctx := context.Background()
	wd, err := os.Getwd()
	if err != nil {
		panic("chatapi: bundling: working directory: " + err.Error())
	}
	root, err := bundling.LocateModule(ctx, wd)
	if err != nil {
		panic("chatapi: bundling: locating the handlers' sources: " + err.Error())
	}
	reqs := make([]bundling.Request, len(names))
	for i, n := range names {
		reqs[i] = bundling.Request{Dir: filepath.Join(root, "lambdas", n), Arch: b.arch}
	}
	results, err := bundling.Build(ctx, bundling.Options{}, reqs...)
	if err != nil {
		panic("chatapi: bundling: " + err.Error())
	}
	code := map[string]awslambda.Code{}
	for i, n := range names {
		code[n] = asset(results[i])
	}
	return code
}

// goPackage builds a user's Go main package folder. A relative dir is resolved against the
// working directory of the synth (cdk.json's folder when the CDK CLI runs the app); every
// error names dir, the absolute path it resolved to, and that working directory.
func (b *bundler) goPackage(dir string) awslambda.Code {
	const prop = "AddRoute.GoPackage"
	wd, err := os.Getwd()
	if err != nil {
		b.v.fail(prop, "%q: working directory: %v", dir, err)
	}
	abs := dir
	if !filepath.IsAbs(dir) {
		abs = filepath.Join(wd, dir)
	}
	where := fmt.Sprintf("resolved to %s, relative to the synth's working directory %s", abs, wd)
	if filepath.IsAbs(dir) {
		where = "an absolute path"
	}
	switch st, err := os.Stat(abs); {
	case errors.Is(err, fs.ErrNotExist):
		b.v.fail(prop, "%q does not exist (%s)", dir, where)
	case err != nil:
		b.v.fail(prop, "%q: %v (%s)", dir, err, where)
	case !st.IsDir():
		b.v.fail(prop, "%q is a file, not a Go main package folder (%s)", dir, where)
	}
	results, err := bundling.Build(context.Background(), bundling.Options{}, bundling.Request{Dir: abs, Arch: b.arch})
	if err != nil {
		b.v.fail(prop, "%q (%s): %v", dir, where, err)
	}
	return asset(results[0])
}

func asset(r bundling.Result) awslambda.Code {
	return awslambda.Code_FromAsset(jsii.String(r.Dir), &awss3assets.AssetOptions{
		AssetHash:     jsii.String(r.Hash),
		AssetHashType: awscdk.AssetHashType_CUSTOM,
	})
}
