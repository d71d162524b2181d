/**
 * Dense semantic text embeddings for item content.
 *
 * No provider ships with Kindred. A sentence-embedding model (MiniLM-class, 20–90 MB of
 * weights) is not published inside any npm package: the JavaScript runtimes for such models
 * (e.g. @huggingface/transformers) download the weights from a model hub on first use, which a
 * self-hosted install that must run offline cannot rely on, and bundling weights would make the
 * engine's install tens of megabytes heavier for every user. Term features (BM25 / TF-IDF over
 * lemmatised terms, see ./vectorize.ts) work without one.
 *
 * To add one, implement `EmbeddingProvider` (for instance over a local ONNX file or an internal
 * embedding service) and pass it to `vectorizeItemsWithEmbeddings` or to the content model's
 * `fitContent` options: its rows become the `embedding` feature group, weighted like any other.
 */
export interface EmbeddingProvider {
  /** Name recorded with a trained model. */
  readonly name: string;
  /** Length of every row. */
  readonly dimensions: number;
  /** One row per text, in order. */
  embed(texts: readonly string[]): Promise<Float32Array[]>;
}
