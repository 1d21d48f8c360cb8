package aws

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// templateData is the launch template content of one role.
func (r *run) templateData(role, instanceType, userData string) ec2types.RequestLaunchTemplateData {
	name := r.n.prefix() + "-" + role
	tags := r.n.ec2Tags(name, role)
	return ec2types.RequestLaunchTemplateData{
		ImageId:            aws.String(r.res.AMI),
		InstanceType:       ec2types.InstanceType(instanceType),
		KeyName:            aws.String(r.n.keyPair()),
		SecurityGroupIds:   []string{r.sgID},
		IamInstanceProfile: &ec2types.LaunchTemplateIamInstanceProfileSpecificationRequest{Name: aws.String(r.n.role(role))},
		UserData:           aws.String(base64.StdEncoding.EncodeToString([]byte(userData))),
		BlockDeviceMappings: []ec2types.LaunchTemplateBlockDeviceMappingRequest{{
			DeviceName: aws.String(r.rootDevice),
			Ebs: &ec2types.LaunchTemplateEbsBlockDeviceRequest{
				VolumeSize: aws.Int32(r.spec.VolumeGiB), VolumeType: ec2types.VolumeTypeGp3,
				DeleteOnTermination: aws.Bool(true), Encrypted: aws.Bool(true),
			},
		}},
		// IMDSv2 only, one hop: containers cannot borrow the instance role.
		MetadataOptions: &ec2types.LaunchTemplateInstanceMetadataOptionsRequest{
			HttpTokens: ec2types.LaunchTemplateHttpTokensStateRequired, HttpEndpoint: ec2types.LaunchTemplateInstanceMetadataEndpointStateEnabled,
			HttpPutResponseHopLimit: aws.Int32(1),
		},
		InstanceInitiatedShutdownBehavior: ec2types.ShutdownBehaviorStop,
		TagSpecifications: []ec2types.LaunchTemplateTagSpecificationRequest{
			{ResourceType: ec2types.ResourceTypeInstance, Tags: tags},
			{ResourceType: ec2types.ResourceTypeVolume, Tags: tags},
		},
	}
}

// fingerprint identifies template content; it is stored as the version
// description, so that Up compares what it wants with what it made last
// time without depending on how the API echoes each field.
func fingerprint(d ec2types.RequestLaunchTemplateData) string {
	b, _ := json.Marshal(d)
	sum := sha256.Sum256(b)
	return "simswarm " + hex.EncodeToString(sum[:12])
}

// findLaunchTemplate returns the cluster's template of role, nil if none.
func (p *Provider) findLaunchTemplate(ctx context.Context, n names, role string) (*ec2types.LaunchTemplate, error) {
	name := n.launchTemplate(role)
	out, err := p.ec2.DescribeLaunchTemplates(ctx, &ec2.DescribeLaunchTemplatesInput{LaunchTemplateNames: []string{name}})
	if isCode(err, "InvalidLaunchTemplateName.NotFoundException", "InvalidLaunchTemplateName.NotFound") {
		return nil, nil
	}
	if err != nil {
		return nil, wrap("describe launch template "+name, err)
	}
	if len(out.LaunchTemplates) == 0 {
		return nil, nil
	}
	return &out.LaunchTemplates[0], nil
}

// launchTemplate converges the template of role to data: created if
// missing, a new default version if the content changed.
func (r *run) launchTemplate(ctx context.Context, role string, data ec2types.RequestLaunchTemplateData) error {
	if r.templates == nil {
		r.templates = map[string]string{}
	}
	name := r.n.launchTemplate(role)
	fp := fingerprint(data)
	lt, err := r.p.findLaunchTemplate(ctx, r.n, role)
	if err != nil {
		return err
	}
	if lt == nil {
		r.templates[role] = placeholder("launch template")
		return r.act(Action{Op: OpCreate, Kind: "launch template", Name: name, Note: string(data.InstanceType)}, func() error {
			out, err := r.p.ec2.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{
				LaunchTemplateName: aws.String(name), LaunchTemplateData: &data, VersionDescription: aws.String(fp),
				TagSpecifications: r.n.ec2TagSpec(ec2types.ResourceTypeLaunchTemplate, name, role),
			})
			if err != nil {
				return wrap("create launch template "+name, err)
			}
			r.templates[role] = aws.ToString(out.LaunchTemplate.LaunchTemplateId)
			return nil
		})
	}
	if !ec2HasTag(lt.Tags, TagCluster, r.n.cluster) {
		return r.n.notOurs("launch template", name)
	}
	id := aws.ToString(lt.LaunchTemplateId)
	r.templates[role] = id
	vs, err := r.p.ec2.DescribeLaunchTemplateVersions(ctx, &ec2.DescribeLaunchTemplateVersionsInput{
		LaunchTemplateId: aws.String(id), Versions: []string{"$Default"},
	})
	if err != nil {
		return wrap("describe launch template "+name, err)
	}
	if len(vs.LaunchTemplateVersions) > 0 && aws.ToString(vs.LaunchTemplateVersions[0].VersionDescription) == fp {
		return r.act(Action{Op: OpKeep, Kind: "launch template", Name: name}, nil)
	}
	note := "new version; instances launched from now on use it"
	if role == RoleManager {
		note = "new version; the running manager keeps its settings (destroy and up to replace it)"
	}
	return r.act(Action{Op: OpUpdate, Kind: "launch template", Name: name, Note: note}, func() error {
		out, err := r.p.ec2.CreateLaunchTemplateVersion(ctx, &ec2.CreateLaunchTemplateVersionInput{
			LaunchTemplateId: aws.String(id), LaunchTemplateData: &data, VersionDescription: aws.String(fp),
		})
		if err != nil {
			return wrap("update launch template "+name, err)
		}
		v := aws.ToInt64(out.LaunchTemplateVersion.VersionNumber)
		_, err = r.p.ec2.ModifyLaunchTemplate(ctx, &ec2.ModifyLaunchTemplateInput{
			LaunchTemplateId: aws.String(id), DefaultVersion: aws.String(strconv.FormatInt(v, 10)),
		})
		return wrap("set default version of launch template "+name, err)
	})
}

func (r *run) managerTemplate(ctx context.Context) error {
	ud, err := RenderManager(r.n.userData(r.p.region))
	if err != nil {
		return err
	}
	return r.launchTemplate(ctx, RoleManager, r.templateData(RoleManager, r.spec.ManagerType, ud))
}

func (r *run) workerTemplate(ctx context.Context) error {
	d := r.n.userData(r.p.region)
	d.ManagerAddr = r.managerIP
	if d.ManagerAddr == "" || strings.HasPrefix(d.ManagerAddr, "(") {
		d.ManagerAddr = "0.0.0.0" // dry run before the manager exists
	}
	ud, err := RenderWorker(d)
	if err != nil {
		return err
	}
	return r.launchTemplate(ctx, RoleWorker, r.templateData(RoleWorker, r.spec.WorkerType, ud))
}
