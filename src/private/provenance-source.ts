/** The source a build provenance records (`PipelineSource._provenanceSource`). */
export interface ProvenanceSource {
  /** The repository URL. */
  readonly repositoryUrl: string;
  /** The branch the source action watches. */
  readonly branch: string;
  /** The action exports `#{Source.BranchName}` and `#{Source.CommitId}`. */
  readonly git: boolean;
}
