export * from './signing-profile';
export * from './trust-policy';
export * from './kyverno-manifests';
export * from './handler-options';
export * from './image-signer';
export * from './image-verifier';
export * from './pipeline';
export * from './ecs-signature-enforcement';
