import { Duration, Fn, IResource, Names, RemovalPolicy, Resource, Stack, Tags, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as signer from 'aws-cdk-lib/aws-signer';
import { Construct } from 'constructs';
import { grantRevocationStatus } from './private/grants';

/** AWS Signer's signing platform for Notation (Notary Project) signatures of OCI artifacts. */
const NOTATION_PLATFORM_ID = 'Notation-OCI-SHA384-ECDSA';
/** AWS Signer profile names (API `PutSigningProfile`): letters, digits and underscores, 2 to 64 characters. */
const PROFILE_NAME = /^[a-zA-Z0-9_]{2,64}$/;
/** AWS Signer's default and longest signature validity: 135 months. */
const MAX_VALIDITY_MONTHS = 135;
/** 135 months in whole days (135 × 365.2425 / 12 = 4108.98): longer validities are refused by Signer. */
const MAX_VALIDITY_DAYS = 4108;
/** `arn:<partition>:signer:<region>:<account>:/signing-profiles/<name>[/<version>]` */
const PROFILE_ARN = /^arn:([a-z0-9-]+):signer:([a-z0-9-]+):(\d{12}):\/signing-profiles\/([^/]+)(?:\/([^/]+))?$/;

/**
 * An AWS Signer signing profile for Notation signatures (platform `Notation-OCI-SHA384-ECDSA`), either made by
 * `NotationSigningProfile` or imported with `NotationSigningProfile.fromSigningProfileAttributes`.
 */
export interface INotationSigningProfile extends IResource {
  /**
   * The profile ARN, `arn:<partition>:signer:<region>:<account>:/signing-profiles/<name>`: the trusted identity that
   * accepts every version of the profile.
   *
   * @attribute
   */
  readonly signingProfileArn: string;

  /**
   * The profile version ARN, `<signingProfileArn>/<version>`: the trusted identity that pins one version.
   *
   * @attribute
   */
  readonly signingProfileVersionArn: string;

  /**
   * The profile name (`SignPayload`'s `profileName`).
   *
   * @attribute
   */
  readonly signingProfileName: string;

  /**
   * The profile version.
   *
   * @attribute
   */
  readonly signingProfileVersion: string;

  /**
   * The AWS account that owns the profile (`SignPayload`'s `profileOwner` when signing across accounts).
   *
   * @attribute
   */
  readonly signingProfileOwner: string;

  /**
   * Grants signing with this profile: `signer:SignPayload` and `signer:GetSigningProfile` on this profile's ARN only.
   *
   * A principal in another account also needs the profile owner's permission (`AWS::Signer::ProfilePermission`).
   */
  grantSign(grantee: iam.IGrantable): iam.Grant;

  /**
   * Grants checking the revocation status of signatures (`signer:GetRevocationStatus`).
   *
   * That API has no resource type, so the statement's resource is `*`; the construct acknowledges the resulting
   * cdk-nag `AwsSolutions-IAM5[Resource::*]` finding with that reason.
   */
  grantRevocationCheck(grantee: iam.IGrantable): iam.Grant;
}

/** Properties of a `NotationSigningProfile`. */
export interface NotationSigningProfileProps {
  /**
   * How long signatures made with this profile stay valid, in whole days (AWS Signer accepts 1 day to 135 months).
   *
   * @default - AWS Signer's default and maximum, 135 months
   */
  readonly signatureValidity?: Duration;

  /**
   * The profile name: 2 to 64 letters, digits or underscores. AWS Signer never reuses the name of a canceled profile.
   *
   * @default - a name generated from the construct path (letters, digits and underscores only)
   */
  readonly signingProfileName?: string;

  /**
   * What happens to the profile when it leaves the stack. Deleting a profile cancels it: it cannot sign again and its
   * name cannot be reused, while the signatures it made stay verifiable.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * Tags for the profile (`Tags.of(profile)` works too).
   *
   * @default - no tags
   */
  readonly tags?: { [key: string]: string };
}

/** Attributes of a signing profile made elsewhere, possibly in another account. */
export interface NotationSigningProfileAttributes {
  /**
   * The profile ARN, `arn:<partition>:signer:<region>:<account>:/signing-profiles/<name>` (not a version ARN).
   */
  readonly signingProfileArn: string;

  /**
   * The profile version ARN, `<signingProfileArn>/<version>`.
   *
   * @default - built from `signingProfileVersion` when given; otherwise the version is unknown and
   * `signingProfileVersion`/`signingProfileVersionArn` throw (needed only to pin a version in a trust policy)
   */
  readonly signingProfileVersionArn?: string;

  /**
   * The profile version.
   *
   * @default - taken from `signingProfileVersionArn` when given
   */
  readonly signingProfileVersion?: string;
}

abstract class NotationSigningProfileBase extends Resource implements INotationSigningProfile {
  public abstract readonly signingProfileArn: string;
  public abstract readonly signingProfileVersionArn: string;
  public abstract readonly signingProfileName: string;
  public abstract readonly signingProfileVersion: string;
  public abstract readonly signingProfileOwner: string;

  public grantSign(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['signer:SignPayload', 'signer:GetSigningProfile'],
      resourceArns: [this.signingProfileArn],
    });
  }

  public grantRevocationCheck(grantee: iam.IGrantable): iam.Grant {
    return grantRevocationStatus(grantee);
  }
}

/**
 * An AWS Signer signing profile for Notation signatures of container images (platform `Notation-OCI-SHA384-ECDSA`).
 *
 * Its ARN (or its version ARN) is the trusted identity of a trust policy; `grantSign` lets a principal sign with it
 * (`SignPayload`), which is what the `ImageSigner` function does.
 *
 * @resource AWS::Signer::SigningProfile
 */
export class NotationSigningProfile extends NotationSigningProfileBase {
  /** The AWS Signer platform of every profile this construct makes. */
  public static readonly PLATFORM_ID = NOTATION_PLATFORM_ID;

  /**
   * Imports a profile made elsewhere, possibly in another account (the signer then passes `profileOwner`).
   * The name, account and region are read from the ARN.
   */
  public static fromSigningProfileAttributes(scope: Construct, id: string, attrs: NotationSigningProfileAttributes): INotationSigningProfile {
    const arn = attrs.signingProfileArn;
    let account: string;
    let region: string;
    let name: string;
    if (Token.isUnresolved(arn)) {
      // arn:<partition>:signer:<region>:<account>:/signing-profiles/<name>
      account = Fn.select(4, Fn.split(':', arn));
      region = Fn.select(3, Fn.split(':', arn));
      name = Fn.select(2, Fn.split('/', arn));
    } else {
      const match = PROFILE_ARN.exec(arn);
      if (!match) {
        throw new Error(
          `signingProfileArn "${arn}" is not an AWS Signer signing profile ARN: expected arn:<partition>:signer:<region>:<account>:/signing-profiles/<name>`,
        );
      }
      if (match[5] !== undefined) {
        throw new Error(
          `signingProfileArn "${arn}" is a profile version ARN: pass the profile ARN (without "/${match[5]}") as signingProfileArn and this ARN as signingProfileVersionArn`,
        );
      }
      [, , region, account, name] = match;
      validateProfileName(name, 'signingProfileArn');
    }

    let versionArn = attrs.signingProfileVersionArn;
    let version = attrs.signingProfileVersion;
    if (versionArn !== undefined) {
      if (Token.isUnresolved(versionArn)) {
        version ??= Fn.select(3, Fn.split('/', versionArn));
      } else {
        const expectedPrefix = `${arn}/`;
        const versionFromArn = versionArn.slice(expectedPrefix.length);
        if (
          (!Token.isUnresolved(arn) && !versionArn.toLowerCase().startsWith(expectedPrefix.toLowerCase())) ||
          versionFromArn === '' ||
          versionFromArn.includes('/')
        ) {
          throw new Error(`signingProfileVersionArn "${versionArn}" is not a version of signingProfileArn "${arn}": expected ${arn}/<version>`);
        }
        if (version !== undefined && !Token.isUnresolved(version) && version !== versionFromArn) {
          throw new Error(`signingProfileVersion "${version}" does not match signingProfileVersionArn "${versionArn}"`);
        }
        version ??= versionFromArn;
      }
    } else if (version !== undefined) {
      versionArn = `${arn}/${version}`;
    }

    class Import extends NotationSigningProfileBase {
      public readonly signingProfileArn = arn;
      public readonly signingProfileName = name;
      public readonly signingProfileOwner = account;

      public get signingProfileVersionArn(): string {
        return versionArn ?? unknownVersion(this, 'signingProfileVersionArn');
      }

      public get signingProfileVersion(): string {
        return version ?? unknownVersion(this, 'signingProfileVersion');
      }
    }
    return new Import(scope, id, { account, region });
  }

  public readonly signingProfileArn: string;
  public readonly signingProfileVersionArn: string;
  public readonly signingProfileName: string;
  public readonly signingProfileVersion: string;
  public readonly signingProfileOwner: string;

  /** The signature validity this profile gives its signatures, as rendered for CloudFormation. */
  public readonly signatureValidityPeriod: signer.CfnSigningProfile.SignatureValidityPeriodProperty;

  constructor(scope: Construct, id: string, props: NotationSigningProfileProps = {}) {
    super(scope, id);

    const profileName = props.signingProfileName ?? Names.uniqueResourceName(this, { maxLength: 64, separator: '_', allowedSpecialCharacters: '_' });
    if (!Token.isUnresolved(profileName)) validateProfileName(profileName, 'signingProfileName');

    this.signatureValidityPeriod = validityPeriod(props.signatureValidity);
    const resource = new signer.CfnSigningProfile(this, 'Resource', {
      platformId: NOTATION_PLATFORM_ID,
      profileName,
      signatureValidityPeriod: this.signatureValidityPeriod,
    });
    resource.applyRemovalPolicy(props.removalPolicy ?? RemovalPolicy.RETAIN);
    for (const [key, value] of Object.entries(props.tags ?? {})) Tags.of(this).add(key, value);

    this.signingProfileArn = resource.attrArn;
    this.signingProfileVersionArn = resource.attrProfileVersionArn;
    this.signingProfileVersion = resource.attrProfileVersion;
    this.signingProfileName = profileName;
    this.signingProfileOwner = Stack.of(this).account;
  }
}

function validateProfileName(name: string, prop: string): void {
  if (!PROFILE_NAME.test(name)) {
    throw new Error(`${prop}: signing profile name "${name}" is invalid: AWS Signer profile names are 2 to 64 letters, digits or underscores (^[a-zA-Z0-9_]{2,64}$)`);
  }
}

function validityPeriod(validity: Duration | undefined): signer.CfnSigningProfile.SignatureValidityPeriodProperty {
  if (validity === undefined) return { type: 'MONTHS', value: MAX_VALIDITY_MONTHS };
  if (validity.isUnresolved()) return { type: 'DAYS', value: validity.toDays() };
  let days: number;
  try {
    days = validity.toDays({ integral: true });
  } catch {
    throw new Error(
      `signatureValidity: ${validity.toHumanString()} is not a whole number of days; AWS Signer takes the validity in days, months or years`,
    );
  }
  if (days < 1) throw new Error(`signatureValidity: ${validity.toHumanString()} is shorter than 1 day, the shortest validity AWS Signer accepts`);
  if (days > MAX_VALIDITY_DAYS) {
    throw new Error(
      `signatureValidity: ${days} days is longer than ${MAX_VALIDITY_MONTHS} months (${MAX_VALIDITY_DAYS} days), the longest validity AWS Signer accepts`,
    );
  }
  return { type: 'DAYS', value: days };
}

function unknownVersion(profile: Construct, attribute: string): never {
  throw new Error(
    `${attribute} of the imported signing profile ${profile.node.path} is unknown: pass signingProfileVersionArn (or signingProfileVersion) ` +
      'to NotationSigningProfile.fromSigningProfileAttributes',
  );
}
