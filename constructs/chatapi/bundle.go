package chatapi

import (
	"context"
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

// goPackage builds a user's Go main package folder.
func (b *bundler) goPackage(dir string) awslambda.Code {
	abs, err := filepath.Abs(dir)
	if err != nil {
		b.v.fail("AddRoute.GoPackage", "%q: %v", dir, err)
	}
	if st, err := os.Stat(abs); err != nil || !st.IsDir() {
		b.v.fail("AddRoute.GoPackage", "%q is not a folder (resolved to %s)", dir, abs)
	}
	results, err := bundling.Build(context.Background(), bundling.Options{}, bundling.Request{Dir: abs, Arch: b.arch})
	if err != nil {
		b.v.fail("AddRoute.GoPackage", "%v", err)
	}
	return asset(results[0])
}

func asset(r bundling.Result) awslambda.Code {
	return awslambda.Code_FromAsset(jsii.String(r.Dir), &awss3assets.AssetOptions{
		AssetHash:     jsii.String(r.Hash),
		AssetHashType: awscdk.AssetHashType_CUSTOM,
	})
}
