package main

import "testing"

func TestCompareTemplates(t *testing.T) {
	base := `{"Resources":{"R":{"Type":"AWS::IAM::Role","Properties":{"RoleName":"a"},"Metadata":{"aws:cdk:path":"S/Roles/R"}},"P":{"Type":"AWS::IAM::ManagedPolicy"},"CDKMetadata":{"Type":"AWS::CDK::Metadata","Properties":{"Analytics":"v2:go"}}},"Conditions":{"CDKMetadataAvailable":{}},"Outputs":{"O":{"Value":"x"}}}`
	tests := []struct {
		name, other string
		same        bool
	}{
		{"itself", base, true},
		{"other paths and analytics", `{"Resources":{"R":{"Type":"AWS::IAM::Role","Properties":{"RoleName":"a"},"Metadata":{"aws:cdk:path":"S/UseCase/Role"}},"P":{"Type":"AWS::IAM::ManagedPolicy"},"CDKMetadata":{"Type":"AWS::CDK::Metadata","Properties":{"Analytics":"v2:js"}}},"Conditions":{"CDKMetadataAvailable":{"x":1}},"Outputs":{"O":{"Value":"x"}}}`, true},
		{"a property", `{"Resources":{"R":{"Type":"AWS::IAM::Role","Properties":{"RoleName":"b"}},"P":{"Type":"AWS::IAM::ManagedPolicy"}},"Outputs":{"O":{"Value":"x"}}}`, false},
		{"resource order", `{"Resources":{"P":{"Type":"AWS::IAM::ManagedPolicy"},"R":{"Type":"AWS::IAM::Role","Properties":{"RoleName":"a"}}},"Outputs":{"O":{"Value":"x"}}}`, false},
		{"an output", `{"Resources":{"R":{"Type":"AWS::IAM::Role","Properties":{"RoleName":"a"}},"P":{"Type":"AWS::IAM::ManagedPolicy"}},"Outputs":{"O":{"Value":"y"}}}`, false},
		{"other metadata kept", `{"Resources":{"R":{"Type":"AWS::IAM::Role","Properties":{"RoleName":"a"},"Metadata":{"cfn_nag":{}}},"P":{"Type":"AWS::IAM::ManagedPolicy"}},"Outputs":{"O":{"Value":"x"}}}`, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if d := compareTemplates([]byte(base), []byte(tc.other)); (d == "") != tc.same {
				t.Errorf("compareTemplates = %q, want same=%v", d, tc.same)
			}
		})
	}
}
