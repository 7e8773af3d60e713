package controlplane

// AccountRegistration is a customer account the control plane accepts
// events from.
type AccountRegistration struct {
	// AccountID is the 12-digit AWS account ID.
	AccountID string `json:"accountId"`
	// ObserverRoleARN is the account's read-only observer role
	// (<prefix>-account-observer).
	ObserverRoleARN string `json:"observerRoleArn"`
	// ExternalID must be presented when assuming the observer role.
	ExternalID string `json:"externalId"`
}

// AppRegistration is an app the control plane deploys.
type AppRegistration struct {
	// Name is the Wharf app name.
	Name string `json:"name"`
	// AccountID is the account the app lives in; events for the app are
	// accepted only from this account.
	AccountID string `json:"accountId"`
	// Region is the app's region.
	Region string `json:"region"`
	// ManagementRoleARN is the app's management role
	// (<prefix>-app-<name>-management).
	ManagementRoleARN string `json:"managementRoleArn"`
	// ExternalID must be presented when assuming the management role.
	ExternalID string `json:"externalId"`
}

// Registry lists the accounts and apps the control plane serves. The
// Lambda reads it as JSON from the file WHARF_REGISTRY_FILE names (shipped
// in a Lambda layer by the control-plane construct), or from the
// WHARF_REGISTRY variable in tests and local runs.
type Registry struct {
	// Prefix is the Wharf resource prefix (default "wharf").
	Prefix   string                `json:"prefix"`
	Accounts []AccountRegistration `json:"accounts"`
	Apps     []AppRegistration     `json:"apps"`
}
