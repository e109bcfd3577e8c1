export * from './deploy-target';
export * from './pipeline-source';
export * from './signed-image-pipeline';
