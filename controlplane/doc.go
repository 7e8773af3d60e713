// Package controlplane is Wharf's deploy state machine.
//
// The control plane receives EventBridge envelopes forwarded from customer
// accounts (CodeBuild build state and phase changes, ECS task, deployment and
// service events, Parameter Store changes) plus a periodic sweep event it
// schedules for itself. Every event is only a hint: after routing it to one
// registered app, [ControlPlane.Handle] reconciles that app. The reconciler
// loads the app's state from a [Store], observes CodeBuild and ECS through
// the narrow interfaces in awsapi.go, decides the next step and acts on the
// difference, writing the state back with a conditional write on its
// version. Duplicated, late, reordered and lost events therefore converge to
// the same result: the newest successful build runs on every service, or the
// app is marked failed with a [Reason].
//
// The lifecycle of a deploy is: build started → build succeeded → task
// definitions registered → release task (if the build declares a release
// command) → services created, updated or deleted → deployed, or failed at
// whichever step failed. A configuration change under the app's config
// prefix rolls the services onto new task-definition revisions. See
// docs/controlplane.md for the state diagram.
package controlplane
