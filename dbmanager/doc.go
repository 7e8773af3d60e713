// Package dbmanager is the logic of Wharf's database-manager Lambda: it
// creates and destroys one PostgreSQL database and login role per app on an
// Aurora PostgreSQL cluster, switches the cluster's admin user to IAM
// database authentication, and runs one-off SQL as the admin.
//
// Every action is idempotent: repeating a request returns success and changes
// nothing (the response's Changed field says whether anything was done).
// Names are checked against an allow-list before they reach SQL and are
// still quoted as identifiers.
//
// The Lambda entry point (lambda/dbmanager) wires a [Manager] into a
// [Handler], which accepts both direct action requests and CloudFormation
// custom-resource events. The direct request and response documents
// (contract.DBRequest, contract.DBResponse) are defined in package contract,
// shared with the wharf CLI; see docs/dbmanager.md for the formats.
package dbmanager
