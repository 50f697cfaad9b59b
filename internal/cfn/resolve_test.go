package cfn_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/lmsshop/checkout/internal/cfn"
)

// A small transformed template exercising each intrinsic the local cloud resolves.
const testTemplate = `{
  "Parameters": {
    "Env": {"Type": "String", "Default": "dev", "AllowedValues": ["dev", "prod"]},
    "Zones": {"Type": "CommaDelimitedList", "Default": "a,b,c"},
    "Sender": {"Type": "String", "Default": "shop@example.com"}
  },
  "Conditions": {
    "IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]},
    "IsDev": {"Fn::Not": [{"Condition": "IsProd"}]},
    "Both": {"Fn::And": [{"Condition": "IsDev"}, {"Fn::Equals": ["x", "x"]}]},
    "Either": {"Fn::Or": [{"Condition": "IsProd"}, {"Fn::Equals": ["x", "y"]}]}
  },
  "Mappings": {"Sizes": {"dev": {"Memory": 128}, "prod": {"Memory": 1024}}},
  "Resources": {
    "Table": {"Type": "AWS::DynamoDB::Table", "Properties": {}},
    "Fn": {"Type": "AWS::Lambda::Function", "Properties": {"Role": {"Fn::GetAtt": ["FnRole", "Arn"]}}},
    "FnRole": {"Type": "AWS::IAM::Role", "Properties": {}},
    "Machine": {"Type": "AWS::StepFunctions::StateMachine", "Properties": {"StateMachineName": {"Fn::Sub": "${AWS::StackName}-checkout"}}},
    "Secret": {"Type": "AWS::SecretsManager::Secret", "Properties": {"Name": {"Fn::Sub": "${AWS::StackName}-settings"}}},
    "Api": {"Type": "AWS::ApiGatewayV2::Api", "Properties": {}},
    "Topic": {"Type": "AWS::SNS::Topic", "Properties": {}}
  }
}`

func testOptions() cfn.Options {
	return cfn.Options{
		Region: "us-east-1", AccountID: "000000000000", StackName: "shop", TableName: "shop-checkout", APIID: "localapi",
		FunctionARN: func(name string) string { return "arn:aws:lambda:us-east-1:000000000000:function:" + name },
	}
}

// parseTestTemplate parses testTemplate with opts; a test that expects the parse to
// fail calls cfn.Parse itself.
func parseTestTemplate(t *testing.T, opts cfn.Options) *cfn.Template {
	t.Helper()
	tpl, err := cfn.Parse([]byte(testTemplate), opts)
	if err != nil {
		t.Fatal(err)
	}
	return tpl
}

func TestResolve(t *testing.T) {
	tests := []struct {
		name string
		in   string // JSON
		want string // JSON
	}{
		{"literal", `"x"`, `"x"`},
		{"Ref parameter", `{"Ref": "Env"}`, `"dev"`},
		{"Ref list parameter", `{"Ref": "Zones"}`, `["a","b","c"]`},
		{"Ref pseudo parameters", `[{"Ref": "AWS::Region"}, {"Ref": "AWS::AccountId"}, {"Ref": "AWS::StackName"}, {"Ref": "AWS::Partition"}, {"Ref": "AWS::URLSuffix"}]`,
			`["us-east-1","000000000000","shop","aws","amazonaws.com"]`},
		{"Ref table is its name", `{"Ref": "Table"}`, `"shop-checkout"`},
		{"Ref function is its name", `{"Ref": "Fn"}`, `"Fn"`},
		{"Ref state machine is its ARN", `{"Ref": "Machine"}`, `"arn:aws:states:us-east-1:000000000000:stateMachine:shop-checkout"`},
		{"Ref secret is its ARN with a suffix", `{"Fn::Select": [0, {"Fn::Split": ["-", {"Fn::Select": [6, {"Fn::Split": [":", {"Ref": "Secret"}]}]}]}]}`, `"shop"`},
		{"Ref role is a stack-derived name", `{"Ref": "FnRole"}`, `"shop-FnRole"`},
		{"Ref API is its ID", `{"Ref": "Api"}`, `"localapi"`},
		{"Ref topic is its ARN", `{"Ref": "Topic"}`, `"arn:aws:sns:us-east-1:000000000000:shop-Topic"`},
		{"GetAtt list form", `{"Fn::GetAtt": ["Fn", "Arn"]}`, `"arn:aws:lambda:us-east-1:000000000000:function:Fn"`},
		{"GetAtt string form", `{"Fn::GetAtt": "Table.Arn"}`, `"arn:aws:dynamodb:us-east-1:000000000000:table/shop-checkout"`},
		{"GetAtt role", `{"Fn::GetAtt": ["FnRole", "Arn"]}`, `"arn:aws:iam::000000000000:role/shop-FnRole"`},
		{"Sub string form", `{"Fn::Sub": "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/${Sender}"}`,
			`"arn:aws:ses:us-east-1:000000000000:identity/shop@example.com"`},
		{"Sub with GetAtt and literal", `{"Fn::Sub": "${Fn.Arn}/${!Literal}"}`, `"arn:aws:lambda:us-east-1:000000000000:function:Fn/${Literal}"`},
		{"Sub list form", `{"Fn::Sub": ["table/${t}/index/*", {"t": {"Ref": "Table"}}]}`, `"table/shop-checkout/index/*"`},
		{"Sub variables shadow parameters", `{"Fn::Sub": ["${Env}", {"Env": "x"}]}`, `"x"`},
		{"Join", `{"Fn::Join": ["-", ["a", {"Ref": "Env"}, "c"]]}`, `"a-dev-c"`},
		{"Join a list parameter", `{"Fn::Join": ["", {"Ref": "Zones"}]}`, `"abc"`},
		{"Select", `{"Fn::Select": ["1", {"Ref": "Zones"}]}`, `"b"`},
		{"Split", `{"Fn::Split": ["/", "a/b"]}`, `["a","b"]`},
		{"If false", `{"Fn::If": ["IsProd", "big", "small"]}`, `"small"`},
		{"If true through Not", `{"Fn::If": ["IsDev", "dev", "prod"]}`, `"dev"`},
		{"If And", `{"Fn::If": ["Both", 1, 2]}`, `1`},
		{"If Or", `{"Fn::If": ["Either", 1, 2]}`, `2`},
		{"If NoValue drops the key", `{"a": {"Fn::If": ["IsProd", "x", {"Ref": "AWS::NoValue"}]}, "b": 1}`, `{"b":1}`},
		{"If NoValue drops the element", `["x", {"Fn::If": ["IsProd", "y", {"Ref": "AWS::NoValue"}]}]`, `["x"]`},
		{"FindInMap", `{"Fn::FindInMap": ["Sizes", {"Ref": "Env"}, "Memory"]}`, `128`},
		{"nested in objects", `{"Env": {"Variables": {"T": {"Ref": "Table"}}}}`, `{"Env":{"Variables":{"T":"shop-checkout"}}}`},
	}
	tpl := parseTestTemplate(t, testOptions())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var in any
			dec := json.NewDecoder(strings.NewReader(tt.in))
			dec.UseNumber()
			if err := dec.Decode(&in); err != nil {
				t.Fatal(err)
			}
			got, err := tpl.Resolver().Resolve(in)
			if err != nil {
				t.Fatalf("Resolve(%s): %v", tt.in, err)
			}
			b, _ := json.Marshal(got)
			if string(b) != tt.want {
				t.Errorf("Resolve(%s) = %s, want %s", tt.in, b, tt.want)
			}
		})
	}
}

func TestResolveErrors(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"unknown Ref", `{"Ref": "Nope"}`, "Nope is neither a parameter nor a resource"},
		{"unknown pseudo parameter", `{"Ref": "AWS::Nope"}`, "unknown pseudo parameter"},
		{"unknown GetAtt resource", `{"Fn::GetAtt": ["Nope", "Arn"]}`, "no resource Nope"},
		{"unknown attribute", `{"Fn::GetAtt": ["Table", "StreamArn"]}`, "Table.StreamArn"},
		{"Sub of an unknown name", `{"Fn::Sub": "x-${Nope}"}`, "${Nope}"},
		{"Select out of range", `{"Fn::Select": [5, ["a"]]}`, "out of range"},
		{"unknown condition", `{"Fn::If": ["Nope", 1, 2]}`, "no condition Nope"},
		{"unsupported function", `{"Fn::ImportValue": "x"}`, "does not evaluate Fn::ImportValue"},
		{"Join of a non-list", `{"Fn::Join": [",", "a"]}`, "want a list"},
		{"missing mapping", `{"Fn::FindInMap": ["Sizes", "test", "Memory"]}`, "no mapping"},
	}
	tpl := parseTestTemplate(t, testOptions())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var in any
			if err := json.Unmarshal([]byte(tt.in), &in); err != nil {
				t.Fatal(err)
			}
			_, err := tpl.Resolver().Resolve(in)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Resolve(%s) err = %v, want it to mention %q", tt.in, err, tt.want)
			}
		})
	}
}

func TestParameters(t *testing.T) {
	tests := []struct {
		name    string
		params  map[string]string
		wantEnv string
		wantErr string
	}{
		{"default", nil, "dev", ""},
		{"override", map[string]string{"Env": "prod"}, "prod", ""},
		{"a value outside AllowedValues is refused", map[string]string{"Env": "staging"}, "", "AllowedValues"},
		{"an undeclared override is ignored", map[string]string{"StorefrontUrl": "http://x"}, "dev", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := testOptions()
			opts.Params = tt.params
			tpl, err := cfn.Parse([]byte(testTemplate), opts)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := tpl.Param("Env"); got != tt.wantEnv {
				t.Errorf("Env = %q, want %q", got, tt.wantEnv)
			}
		})
	}
}

func TestParseRefusesAnUntransformedTemplate(t *testing.T) {
	_, err := cfn.Parse([]byte(`{"Transform": "AWS::Serverless-2016-10-31", "Resources": {"A": {"Type": "AWS::SNS::Topic"}}}`), testOptions())
	if err == nil || !strings.Contains(err.Error(), "samtransform") {
		t.Fatalf("err = %v, want a refusal naming the transform", err)
	}
}
