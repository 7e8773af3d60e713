// Package iampolicy evaluates IAM policies the way the IAM User Guide
// documents it, for tests that check the calls Wharf's code makes against the
// policies Wharf synthesizes. It uses the standard library only and is kept
// small and explicit: every rule it applies names the page it comes from.
//
// Evaluation ("Policy evaluation logic", IAM User Guide,
// reference_policies_evaluation-logic.html, and "The difference between
// explicit and implicit denies",
// reference_policies_evaluation-logic_AccessPolicyLanguage_Interplay.html):
// "A request results in an explicit deny if an applicable policy includes a
// Deny statement. If policies that apply to a request include an Allow
// statement and a Deny statement, the Deny statement trumps the Allow
// statement." and "An implicit denial occurs when there is no applicable
// Deny statement but also no applicable Allow statement."
//
// A statement applies when its Action (or NotAction), Resource (or
// NotResource), Principal (trust and resource policies only) and every
// condition in its Condition block match the request.
//
// What it does not model: service control policies, permissions boundaries,
// session policies, policy variables (${aws:username}), Date and IpAddress
// and Binary operators, and the rule that a cross-account request needs both
// an identity and a resource policy. Evaluate reports an unknown condition
// operator as an error rather than guessing.
//
// Templates: Template reads a synthesized CloudFormation template, resolves
// intrinsic functions through a Resolver and returns a role's identity
// policies and trust policy; an intrinsic it cannot resolve is an error,
// never a silent match.
package iampolicy
