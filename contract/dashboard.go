package contract

// DashboardStack is <prefix>-dashboard, the stack of the web dashboard
// (constructs/dashboard).
func (n Names) DashboardStack() string { return n.Prefix + "-dashboard" }

// DashboardPlatformPath is where the dashboard serves the platform
// descriptor (contract.Platform).
const DashboardPlatformPath = "/platform.json"
