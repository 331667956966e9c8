/**
 * The enums of both API generations and how they map onto one model (spec §3). A dataset has one canonical V2
 * `dataFormat`; the V1 `projectType` / `templateType` / `dataType` are kept as given when a dataset is made through
 * V1 and derived from the format otherwise.
 */
import { isMultimodal, type DataFormat, type StorageType } from '../model.js';

/** V1 templateType → projectType it belongs to (spec §3.3: template // 100 == project). */
export const V1_TEMPLATES = {
  2000: { projectType: 20, dataFormat: 'PromptResponse' },
  2001: { projectType: 20, dataFormat: 'PromptSortedresponses' },
  2002: { projectType: 20, dataFormat: 'DPO_PromptChosenRejected' },
  40100: { projectType: 401, dataFormat: 'Text' },
  40200: { projectType: 402, dataFormat: 'Prompt' },
  70500: { projectType: 705, dataFormat: 'PromptImage' },
} as const satisfies Record<number, { projectType: number; dataFormat: DataFormat }>;

export type V1TemplateType = keyof typeof V1_TEMPLATES;
export const V1_TEMPLATE_TYPES = Object.keys(V1_TEMPLATES).map(Number) as V1TemplateType[];
export const V1_PROJECT_TYPES = [20, 401, 402, 705] as const;
export const V1_DATA_TYPES = { text: 4, multimodal: 7 } as const;

/** The V1 storage names and the canonical (V2) ones. */
export const V1_STORAGE = { sysBos: 'sysStorage', usrBos: 'BOS' } as const satisfies Record<string, StorageType>;
export type V1StorageType = keyof typeof V1_STORAGE;

export function v1StorageType(storageType: StorageType): V1StorageType {
  return storageType === 'BOS' ? 'usrBos' : 'sysBos';
}

/**
 * V1 view of a V2-only format. Formats with no V1 template (Role, SFT_FIM, KTO, PromptImageResponse) are shown
 * under the V1 project they are closest to, with templateType 0 (README, known deviations).
 */
export function v1TypesOf(format: DataFormat): { projectType: number; templateType: number; dataType: number } {
  for (const [template, info] of Object.entries(V1_TEMPLATES)) {
    if (info.dataFormat === format) {
      const templateType = Number(template);
      return { projectType: info.projectType, templateType, dataType: templateType === 70500 ? 7 : 4 };
    }
  }
  return isMultimodal(format)
    ? { projectType: 705, templateType: 0, dataType: 7 }
    : { projectType: 20, templateType: 0, dataType: 4 };
}
