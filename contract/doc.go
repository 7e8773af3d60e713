// Package contract is the single source of Wharf's naming contract
// (docs/conventions.md): every physical name that Wharf's constructs, its
// control plane, its database manager and its CLI derive from a prefix and
// user-chosen names, every rule those user-chosen names follow, and the
// JSON documents the two sides exchange (the app settings parameter,
// wharf-build.json and the control plane's registry).
//
// It imports only the standard library and nothing of Wharf, so every
// other package may import it: the CDK constructs without linking AWS SDK
// clients, the Lambda functions without linking the CDK.
//
// The name rules bound every input so that every derived name fits the
// limit AWS documents for it (contract_limits_test.go checks each limit
// against the longest legal names). Where a limit depends on two names
// together (a schedule rule <prefix>-<app>_schedule-<name> must fit
// EventBridge's 64 characters), the rule is a function of both
// (MaxScheduleNameLength).
package contract
