package contract

// ControlPlaneRole is <prefix>-controlplane, the name of the control-plane
// Lambda's execution role. It has a fixed name so that the management and
// observer roles can trust exactly it (aws:PrincipalArn), not every
// principal of the control-plane account that learns the external ID.
func (n Names) ControlPlaneRole() string { return n.Prefix + "-controlplane" }

// ControlPlaneRoleARN is arn:<partition>:iam::<account>:role/<prefix>-controlplane.
func (n Names) ControlPlaneRoleARN(partition, account string) string {
	return RoleARN(partition, account, n.ControlPlaneRole())
}
